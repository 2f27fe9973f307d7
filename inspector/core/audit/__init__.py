"""Retention audits: checks over a session's calls that yield findings.

See :mod:`inspector.core.audit.framework` for how checks are written and run incrementally,
:mod:`inspector.core.audit.config` for the one configuration file, and
:mod:`inspector.core.audit.session` for auditing a stored session.
"""

from inspector.core.audit.config import AuditConfig, AuditConfigError, load_audit_config
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import Auditor, Check, PersonCheck, SessionCheck

__all__ = [
    "AuditConfig",
    "AuditConfigError",
    "Auditor",
    "Check",
    "Finding",
    "FindingSeverity",
    "PersonCheck",
    "SessionCheck",
    "load_audit_config",
]
