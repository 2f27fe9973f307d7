"""People: the identity graph that a session's traffic links, the way Customer.io will see it.

A person is the set of identifiers (userIds, anonymousIds, emails) that the calls connect:
an anonymousId sent with a userId, ``alias`` (previousId -> userId), the same email trait.
"""

from inspector.core.people.graph import IdentityGraph, Person, TraitWrite
from inspector.core.people.identifiers import IdShape, id_shape, is_email, normalise_email

__all__ = [
    "IdShape",
    "IdentityGraph",
    "Person",
    "TraitWrite",
    "id_shape",
    "is_email",
    "normalise_email",
]
