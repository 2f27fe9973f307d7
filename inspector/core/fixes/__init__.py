"""Corrections of captured events: hand edits, bulk fixes, their diffs and saved fix sets."""

from inspector.core.fixes.corrections import ApplyResult, Correction, CorrectionStore, FixSet
from inspector.core.fixes.diff import DiffEntry, DiffOp, json_diff
from inspector.core.fixes.editing import EditCheck, check_edit
from inspector.core.fixes.operations import (
    CoerceType,
    DeleteKey,
    Fix,
    FixPreview,
    MapUserId,
    RenameEvent,
    RenameKey,
    SetValue,
    apply_fixes,
    coerce_value,
    fix_list_adapter,
    preview,
)

__all__ = [
    "ApplyResult",
    "CoerceType",
    "Correction",
    "CorrectionStore",
    "DeleteKey",
    "DiffEntry",
    "DiffOp",
    "EditCheck",
    "Fix",
    "FixPreview",
    "FixSet",
    "MapUserId",
    "RenameEvent",
    "RenameKey",
    "SetValue",
    "apply_fixes",
    "check_edit",
    "coerce_value",
    "fix_list_adapter",
    "json_diff",
    "preview",
]
