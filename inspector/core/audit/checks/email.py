"""Email capture: cart recovery can only email a shopper whose email is known in time."""

from __future__ import annotations

from collections.abc import Iterable

from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import AuditContext, PersonCheck
from inspector.core.audit.text import join_names, plural
from inspector.core.people import Person

__all__ = ["EmailCapturedLate", "IntentWithoutEmail"]


class IntentWithoutEmail(PersonCheck):
    """Intent events from a person whose email is not known at that moment.

    The seed guide's audit segment "Added to Cart in the last day AND email is blank". A
    person with no userId and no email at all is a ghost cart, reported once by
    ``identity.anonymous_intent`` rather than twice.
    """

    id = "email.intent_without_email"
    area = "email"
    severity = FindingSeverity.ERROR
    title = "Intent events before the email is known"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        if not person.user_ids and not person.emails:
            return ()
        known_from = person.email_known_from
        early = [event for event in person.intent_events
                 if known_from is None or event.event_id < known_from]
        if not early:
            return ()
        total = len(person.intent_events)
        names = join_names(sorted({event.name for event in early}))
        when = ("no email was ever sent for them" if known_from is None
                else "their email was only sent later")
        return (self.finding(
            ctx, key=person.id, person=person.id,
            message=(f"{len(early)} of {plural(total, 'intent event')} from {person.label} "
                     f"({names}) came before any email was known: {when}, so a cart-recovery "
                     "campaign triggered by them has no one to email."),
            events=[(event.event_id, event.message_id) for event in early],
            without_email=len(early), intent_events=total,
        ),)


class EmailCapturedLate(PersonCheck):
    """The email becomes known only after checkout started or the order completed."""

    id = "email.captured_late"
    area = "email"
    severity = FindingSeverity.WARNING
    title = "Email captured after checkout"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        known_from = person.email_known_from
        if known_from is None or not person.checkout_events:
            return ()
        first = person.checkout_events[0]
        if first.event_id > known_from:
            return ()
        email_seen = min(person.emails.values(), key=lambda seen: seen.event_id)
        return (self.finding(
            ctx, key=person.id, person=person.id,
            message=(f"The email of {person.label} became known only after {first.name}: "
                     "capture it (identify with the email trait) before checkout starts, or "
                     "abandoned-checkout emails cannot reach this shopper."),
            events=[(first.event_id, first.message_id),
                    (email_seen.event_id, email_seen.message_id)],
        ),)
