"""A comparison as text, JSON, JUnit XML or a self-contained HTML page.

These are the renderings ``inspector diff`` prints; the QA report can embed the same data
through :meth:`Comparison.to_dict` or :func:`render_html`'s template.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO
from xml.etree import ElementTree

from inspector.core.compare.model import Comparison, Difference, Kind, Severity
from inspector.core.resources import resource_path

__all__ = ["FORMATS", "comparison_testsuite", "render", "render_html", "render_json",
           "render_junit", "render_text"]


def render_text(comparison: Comparison, *, colour: bool = False) -> str:
    """One block per difference, errors first, then a count line."""
    colours = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
    lines = [f"baseline {comparison.baseline.name!r} ({comparison.baseline.events:,} events), "
             f"candidate {comparison.candidate.name!r} ({comparison.candidate.events:,} events)"]
    for difference in comparison.differences:
        label = f"{difference.severity.upper():<8}"
        if colour:
            label = f"{colours[difference.severity]}{label}\033[0m"
        where = difference.event_label + (f"  {difference.path}" if difference.path else "")
        lines.append(f"{label}{difference.kind}  {where}\n    {difference.message}")
        for side, examples in (("baseline", difference.baseline_examples),
                               ("candidate", difference.candidate_examples)):
            if examples:
                shown = ", ".join(e.message_id or f"#{e.event_id}" for e in examples)
                lines.append(f"    {side} example: {shown}")
    counts = comparison.counts()
    lines.append(", ".join(f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items())
                 if comparison.differences else "no differences")
    return "\n".join(lines) + "\n"


def render_json(comparison: Comparison) -> str:
    """``{"baseline", "candidate", "differences": [...]}``, indented."""
    return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_junit(comparison: Comparison) -> str:
    """A test case per kind of difference (failed by its errors), so CI systems list them."""
    suite = comparison_testsuite(comparison)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def comparison_testsuite(comparison: Comparison) -> ElementTree.Element:
    """The ``<testsuite>`` of :func:`render_junit` (the QA report embeds it too)."""
    name = f"inspector diff {comparison.baseline.name} -> {comparison.candidate.name}"
    suite = ElementTree.Element("testsuite", name=name)
    failures = 0
    for kind in Kind:
        items = [d for d in comparison.differences if d.kind is kind]
        case = ElementTree.SubElement(suite, "testcase", classname="inspector.diff",
                                      name=str(kind))
        errors = [d for d in items if d.severity is Severity.ERROR]
        others = [d for d in items if d.severity is not Severity.ERROR]
        if errors:
            failures += 1
            failure = ElementTree.SubElement(
                case, "failure", type=str(kind),
                message=f"{len(errors)} difference{'s' if len(errors) != 1 else ''}: "
                f"{errors[0].message}")
            failure.text = "\n".join(_line(d) for d in errors)
        if others:
            ElementTree.SubElement(case, "system-out").text = "\n".join(
                f"{d.severity}: {_line(d)}" for d in others)
    suite.set("tests", str(len(Kind)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return suite


def _line(difference: Difference) -> str:
    where = difference.event_label + (f" {difference.path}" if difference.path else "")
    return f"[{where}] {difference.message}"


def render_html(comparison: Comparison) -> str:
    """One self-contained HTML page (inline CSS, no scripts), every value escaped."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_path("compare"))),
        autoescape=True, undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("comparison.html.j2")
    groups: dict[str, list[Difference]] = {}
    for difference in comparison.differences:
        groups.setdefault(difference.event_label, []).append(difference)
    return template.render(
        comparison=comparison, groups=groups, counts=comparison.counts(),
        as_json=lambda value: json.dumps(value, ensure_ascii=False),
    )


#: Format name -> renderer.
FORMATS: dict[str, Callable[[Comparison], str]] = {
    "text": render_text, "json": render_json, "junit": render_junit, "html": render_html,
}


def render(comparison: Comparison, fmt: str, out: IO[str]) -> None:
    """Write ``comparison`` to ``out`` in ``fmt``."""
    out.write(FORMATS[fmt](comparison))
