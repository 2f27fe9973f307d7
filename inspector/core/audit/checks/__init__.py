"""The bundled checks, one module per area."""

from __future__ import annotations

from inspector.core.audit.checks.drift import (
    EventNameDrift,
    PropertyNameDrift,
    PropertyTypeDrift,
    ValueFormatDrift,
)
from inspector.core.audit.checks.email import EmailCapturedLate, IntentWithoutEmail
from inspector.core.audit.checks.environments import (
    EnvironmentMixed,
    UnknownEnvironmentKey,
    WrongWriteKey,
)
from inspector.core.audit.checks.identity import (
    AnonymousIdChurn,
    AnonymousIntent,
    EmailAsUserId,
    MultipleUserIds,
    UserIdChanged,
    UserIdShape,
)
from inspector.core.audit.checks.items import ItemsIncomplete, ItemsTotalMismatch
from inspector.core.audit.checks.sources import (
    ClientSideEvent,
    DuplicateEmitters,
    UnknownWriteKey,
)
from inspector.core.audit.checks.timing import (
    ClockSkew,
    LateEvents,
    OutOfOrder,
    OutsideTriggerWindow,
)
from inspector.core.audit.checks.traits import (
    ConsentMissing,
    PlaceholderValue,
    TraitOverwritten,
    TraitTypeChanged,
    UnauthorizedWriter,
)
from inspector.core.audit.framework import Check

__all__ = ["CHECK_CLASSES", "all_checks"]

#: Every bundled check, in the order the Audit panel lists them.
CHECK_CLASSES: tuple[type[Check], ...] = (
    MultipleUserIds,
    UserIdShape,
    EmailAsUserId,
    AnonymousIntent,
    UserIdChanged,
    AnonymousIdChurn,
    IntentWithoutEmail,
    EmailCapturedLate,
    UnauthorizedWriter,
    PlaceholderValue,
    TraitOverwritten,
    TraitTypeChanged,
    ConsentMissing,
    # Drift across events of one name (issue 13).
    PropertyTypeDrift,
    EventNameDrift,
    PropertyNameDrift,
    ValueFormatDrift,
    # sources and timing
    ClientSideEvent,
    DuplicateEmitters,
    UnknownWriteKey,
    LateEvents,
    OutsideTriggerWindow,
    ClockSkew,
    OutOfOrder,
    # Item payloads for personalisation (issue 13).
    ItemsIncomplete,
    ItemsTotalMismatch,
    # Staging and production (issue 15).
    WrongWriteKey,
    EnvironmentMixed,
    UnknownEnvironmentKey,
)


def all_checks() -> list[Check]:
    """A fresh instance of every bundled check (session checks keep state)."""
    return [cls() for cls in CHECK_CLASSES]
