"""Person-level conditions: what JSON Schema cannot say about one call.

Cart recovery needs to know things about the *person* behind a call, not the call itself: is
an email known, did they ever say whether they consent, is their userId a stable one. A
:class:`PersonCondition` asks those questions of a :class:`~inspector.core.people.Person` from
the identity graph, either as the person is now (audit segments: who Customer.io would hold
in the segment today) or as of one call (flows: "identified with an email *before* this step").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from inspector.core.conditions.fields import (
    CompiledFields,
    FieldCondition,
    compile_fields,
    validate_paths,
)
from inspector.core.model import Severity, Source, Violation, ViolationKind
from inspector.core.people import Person
from inspector.core.people.identifiers import id_shape

__all__ = ["CompiledPerson", "PersonCondition", "compile_person"]

Shape = Literal["email", "numeric", "uuid", "other"]


class PersonCondition(BaseModel):
    """What must be true of the person behind a call (every key given must hold)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identified: bool | None = Field(
        default=None, description="true: a userId is known for the person.")
    email_known: bool | None = Field(
        default=None, description="true: an email is known (a userId or traits.email that "
        "is a real address, not a placeholder).")
    consent_known: bool | None = Field(
        default=None, description="true: the consent trait (the audit file's consent_trait) "
        "was sent as true or false.")
    single_user_id: bool | None = Field(
        default=None, description="true: at most one userId (Customer.io would hold one "
        "person, not several).")
    user_id_shape: Shape | list[Shape] | None = Field(
        default=None, description="Every userId has this shape (email, numeric, uuid, other).")
    traits: Annotated[dict[str, FieldCondition], AfterValidator(validate_paths)] = Field(
        default_factory=dict, description="Conditions on the person's traits as last "
        "written (paths inside traits: vip_tier, address.city).")


def _violation(kind: str, field: str, message: str) -> Violation:
    return Violation(kind=kind, field=field, message=message, severity=Severity.ERROR,
                     source=Source.RULE)


@dataclass(frozen=True, slots=True)
class CompiledPerson:
    """A :class:`PersonCondition` ready to ask of people."""

    condition: PersonCondition
    consent_trait: str
    traits: CompiledFields

    def violations(self, person: Person | None, *, as_of: int | None = None,
                   label: str | None = None) -> list[Violation]:
        """What does not hold for ``person`` (``None``: a call with no identifier at all),
        counting only what arrived up to event id ``as_of`` when it is given; messages name
        the person as ``label`` (default: their email, userId or anonymousId)."""
        condition = self.condition
        found: list[Violation] = []
        if label is None:
            label = person.label if person is not None else "this call's sender"

        def seen(first_event_id: int) -> bool:
            return as_of is None or first_event_id <= as_of

        # In the order they were first seen (not the table's, which depends on which side
        # of a merge was bigger): the same words however the calls linked the person.
        user_ids = ([value for value, sighting in sorted(
            person.user_ids.items(), key=lambda item: (item[1].event_id, item[0]))
            if seen(sighting.event_id)] if person is not None else [])
        if condition.identified is not None and bool(user_ids) != condition.identified:
            found.append(_violation(
                ViolationKind.REQUIRED, "userId",
                f"{label} has no userId (never identified)" if condition.identified
                else f"{label} is identified as {', '.join(user_ids)}"))
        if condition.email_known is not None:
            emails = ([value for value, sighting in person.emails.items()
                       if seen(sighting.event_id)] if person is not None else [])
            if bool(emails) != condition.email_known:
                found.append(_violation(
                    ViolationKind.REQUIRED, "traits.email",
                    f"no email is known for {label}" if condition.email_known
                    else f"an email is known for {label}: {', '.join(sorted(emails))}"))
        if condition.consent_known is not None:
            trait = self.consent_trait
            writes = [write for write in (person.traits.get(trait, []) if person else [])
                      if seen(write.event_id)]
            known = any(isinstance(write.value, bool) for write in writes)
            if known != condition.consent_known:
                found.append(_violation(
                    ViolationKind.REQUIRED, f"traits.{trait}",
                    f"{label} never sent traits.{trait} as true or false"
                    if condition.consent_known
                    else f"{label} sent traits.{trait}"))
        if condition.single_user_id is not None and (len(user_ids) <= 1) != \
                condition.single_user_id:
            found.append(_violation(
                ViolationKind.JSON_SCHEMA, "userId",
                f"{label} carries {len(user_ids)} userIds: {', '.join(user_ids)}"
                if condition.single_user_id else f"{label} carries one userId at most"))
        if condition.user_id_shape is not None:
            shapes = ({condition.user_id_shape} if isinstance(condition.user_id_shape, str)
                      else set(condition.user_id_shape))
            for value in user_ids:
                shape = str(id_shape(value))
                if shape not in shapes:
                    found.append(_violation(
                        ViolationKind.INVALID_FORMAT, "userId",
                        f"userId {value} is {shape}, expected: {' or '.join(sorted(shapes))}"))
        if self.traits:
            found += self.traits.violations({"traits": _traits_as_of(person, as_of)})
        return found

    def holds(self, person: Person | None, *, as_of: int | None = None) -> bool:
        """Whether every condition holds."""
        return not self.violations(person, as_of=as_of)


def _traits_as_of(person: Person | None, as_of: int | None) -> Mapping[str, Any]:
    if person is None:
        return {}
    current: dict[str, Any] = {}
    for name, writes in person.traits.items():
        for write in reversed(writes):
            if as_of is None or write.event_id <= as_of:
                current[name] = write.value
                break
    return current


def compile_person(condition: PersonCondition | None, *,
                   consent_trait: str) -> CompiledPerson | None:
    """Compile a person condition (``None`` when there is none)."""
    if condition is None or (not condition.model_fields_set - {"traits"} and not \
            condition.traits):
        return None
    return CompiledPerson(condition, consent_trait, compile_fields(
        {f"traits.{path}": rule for path, rule in condition.traits.items()}))
