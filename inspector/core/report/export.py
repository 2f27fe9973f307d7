"""Write one stored session's report to a file (what the window's File > Export report
runs on a worker)."""

from __future__ import annotations

from pathlib import Path

from inspector.core.audit import AuditConfig
from inspector.core.flows.runs import flow_run_reports, load_runs
from inspector.core.report.collect import build_report, describe_plan_file
from inspector.core.report.model import ReportData
from inspector.core.report.render import write_report
from inspector.core.store import EventStore

__all__ = ["export_session_report"]


def export_session_report(
    store: EventStore, session_id: int, fmt: str, path: Path, *,
    plan_path: Path | None = None, audit_config: AuditConfig | None = None,
    audit_config_path: Path | None = None,
) -> ReportData:
    """Build and write the report of session ``session_id`` (blocking); the plan file, if
    given, is named with its SHA-256 as read now. Raises ``LookupError`` for an unknown
    session, :class:`~inspector.core.plan.PlanError` for an unreadable plan, ``OSError`` when
    the file cannot be written."""
    session = store.session_by_id(session_id)
    if session is None:
        raise LookupError(f"no session {session_id}")
    plan = describe_plan_file(plan_path) if plan_path is not None else None
    data = build_report(store, session, audit_config=audit_config,
                        audit_config_path=audit_config_path, plan=plan,
                        flow_runs=flow_run_reports(load_runs(store, session.id)))
    write_report(data, fmt, path)
    return data
