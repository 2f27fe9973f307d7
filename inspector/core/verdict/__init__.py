"""The verdict on a Segment call: one place decides its status and names its violations.

    checks     ingestion checks: what Segment's Tracking API itself rejects or drops
    normalize  Segment's server-side normalisation (timestamps, envelope merge, null ids)
    classify   Classifier.classify(call) -> Verdict (status, violations with their source)
    ndjson     ``inspector validate``: verdicts for NDJSON streams
    revalidate re-validate a stored session against another plan and report what changed

Layering: capture, exchange and the window call this package; it calls the tracking plan
(``inspector.core.plan``), which knows nothing of either (an import-linter contract says so).
"""

from inspector.core.verdict.checks import ingestion_violation, ingestion_violations
from inspector.core.verdict.classify import (
    Classifier,
    EventValidator,
    Verdict,
    plan_verdict,
    status_of,
)

__all__ = [
    "Classifier",
    "EventValidator",
    "Verdict",
    "ingestion_violation",
    "ingestion_violations",
    "plan_verdict",
    "status_of",
]
