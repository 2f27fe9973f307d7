"""Segment calls to Customer.io HTTP requests, one module per destination mode."""

from inspector.core.replay.destinations import Destination, Mode
from inspector.core.replay.mapping.actions import ActionsMapper
from inspector.core.replay.mapping.base import (
    Dropped,
    HttpRequest,
    Mapper,
    PlannedRequest,
    Rejected,
    ReplayItem,
)
from inspector.core.replay.mapping.classic import ClassicMapper
from inspector.core.replay.mapping.pipelines import PipelinesMapper

__all__ = [
    "ActionsMapper",
    "ClassicMapper",
    "Dropped",
    "HttpRequest",
    "Mapper",
    "PipelinesMapper",
    "PlannedRequest",
    "Rejected",
    "ReplayItem",
    "mapper_for",
]


def mapper_for(destination: Destination) -> Mapper:
    """The mapping for a destination's mode."""
    if destination.mode is Mode.CLASSIC:
        return ClassicMapper(destination)
    if destination.mode is Mode.ACTIONS:
        return ActionsMapper(destination)
    return PipelinesMapper(destination)
