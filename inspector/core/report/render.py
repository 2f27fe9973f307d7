"""Render a :class:`~inspector.core.report.model.ReportData` as HTML, JUnit or Markdown."""

from __future__ import annotations

from pathlib import Path

from inspector.core.report.environment import template_environment
from inspector.core.report.junit import render_junit
from inspector.core.report.model import ReportData

__all__ = ["REPORT_FORMATS", "render_html", "render_markdown", "render_report",
           "write_report"]

#: Format name -> (what a save dialog calls it, the file suffix).
REPORT_FORMATS: dict[str, tuple[str, str]] = {
    "html": ("HTML report (*.html)", ".html"),
    "junit": ("JUnit XML (*.xml)", ".xml"),
    "md": ("Markdown (*.md)", ".md"),
}


def render_html(data: ReportData) -> str:
    """One self-contained HTML page: inline CSS, no script, nothing fetched."""
    return template_environment().get_template("report.html").render(data=data)


def render_markdown(data: ReportData) -> str:
    """Markdown for pasting into a ticket."""
    return template_environment().get_template("report.md").render(data=data)


def render_report(data: ReportData, fmt: str) -> str:
    """``data`` in ``fmt`` (a key of :data:`REPORT_FORMATS`)."""
    if fmt == "html":
        return render_html(data)
    if fmt == "md":
        return render_markdown(data)
    if fmt == "junit":
        return render_junit(data)
    raise ValueError(f"unknown report format {fmt!r}; valid: {', '.join(REPORT_FORMATS)}")


def write_report(data: ReportData, fmt: str, path: Path) -> int:
    """Render and write ``path`` (UTF-8) whole or not at all; returns the bytes written."""
    text = render_report(data, fmt).encode("utf-8")
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(text)
    partial.replace(path)
    return len(text)
