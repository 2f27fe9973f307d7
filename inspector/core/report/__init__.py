"""QA reports of a session: HTML (self-contained, printable), JUnit XML and Markdown.

:func:`build_report` gathers a :class:`ReportData` from the store (blocking); the renderers in
:mod:`inspector.core.report.render` print it; templates live in ``resources/report/`` and are
rendered through :func:`template_environment` (Jinja2, escaping by default). Flow runs join a
report as :class:`FlowRunReport` values passed to :func:`build_report`.
"""

from inspector.core.report.collect import build_report, describe_plan_file
from inspector.core.report.environment import template_environment
from inspector.core.report.model import (
    FlowRunReport,
    FlowStepReport,
    PlanSummary,
    ReportData,
)
from inspector.core.report.render import (
    REPORT_FORMATS,
    render_html,
    render_markdown,
    render_report,
    write_report,
)

__all__ = [
    "REPORT_FORMATS",
    "FlowRunReport",
    "FlowStepReport",
    "PlanSummary",
    "ReportData",
    "build_report",
    "describe_plan_file",
    "render_html",
    "render_markdown",
    "render_report",
    "template_environment",
    "write_report",
]
