"""What an identifier looks like: the shapes that tell one source's userIds from another's."""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["IdShape", "id_shape", "is_email", "normalise_email"]

# Deliberately loose: Customer.io "determines the identifier type from the shape of the value",
# and anything with one @ between non-blank parts and a dot in the domain is what users mean.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_NUMERIC = re.compile(r"^[0-9]+$")


class IdShape(StrEnum):
    """The shape of a userId: sources that disagree on it create several people."""

    EMAIL = "email"
    NUMERIC = "numeric"
    UUID = "uuid"
    OTHER = "other"


def is_email(value: str) -> bool:
    """Whether ``value`` is shaped like an email address."""
    return _EMAIL.match(value) is not None


def id_shape(value: str) -> IdShape:
    """Classify a userId as an email, a number, a UUID or something else."""
    if _NUMERIC.match(value):
        return IdShape.NUMERIC
    if _UUID.match(value):
        return IdShape.UUID
    if is_email(value):
        return IdShape.EMAIL
    return IdShape.OTHER


def normalise_email(value: str) -> str:
    """The form two emails are compared in (Customer.io compares emails case-insensitively)."""
    return value.strip().lower()
