"""Audit findings kept with their session, so a reopened session shows them at once.

One row per session and configuration: the configuration's hash (with the inspector version
and the checks that ran, since a new release may word or find things differently), the newest
event audited, and the findings as JSON. Findings are current when no event arrived since;
otherwise, or under another configuration, they are computed again (and kept again).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass

import orjson

from inspector import __version__
from inspector.core.audit.config import AuditConfig
from inspector.core.audit.finding import Finding
from inspector.core.store import EventStore

__all__ = ["StoredAudit", "config_hash", "load_stored_audit", "store_audit"]

log = logging.getLogger(__name__)


def config_hash(config: AuditConfig, check_ids: list[str]) -> str:
    """What findings depend on besides the events: the configuration, the checks, the version."""
    text = orjson.dumps({"config": config.model_dump(mode="json"), "checks": check_ids,
                         "version": __version__}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAudit:
    """Findings as kept: as of ``through_event_id``, computed at ``computed_at`` (epoch s)."""

    through_event_id: int
    computed_at: float
    people: int
    findings: list[Finding]


def store_audit(store: EventStore, session_id: int, config: AuditConfig, check_ids: list[str],
                through_event_id: int, people: int, findings: list[Finding]) -> bool:
    """Keep ``findings`` with the session (replacing those of the same configuration);
    ``False`` when the database cannot be written (a read-only file): keeping them only
    saves time later, so that is logged, not raised."""
    try:
        store.save_audit(session_id, config_hash(config, check_ids), through_event_id, people,
                         orjson.dumps([finding.to_dict() for finding in findings]).decode())
    except (sqlite3.Error, OSError) as error:
        log.info("audit findings not kept with session %s: %s", session_id, error)
        return False
    return True


def load_stored_audit(store: EventStore, session_id: int, config: AuditConfig,
                      check_ids: list[str]) -> StoredAudit | None:
    """The findings kept for this session and configuration, or ``None``."""
    row = store.load_audit(session_id, config_hash(config, check_ids))
    if row is None:
        return None
    findings = [Finding.from_dict(item) for item in orjson.loads(row["findings"])]
    return StoredAudit(int(row["through_event_id"]), float(row["computed_at"]),
                       int(row["people"]), findings)
