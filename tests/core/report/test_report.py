"""QA reports of a captured session: what they hold, that hostile markup is shown and never
run, that nothing external is referenced, JUnit that parses, and the flow-runs slot."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

from inspector.core.model import Status
from inspector.core.notes import Note, NoteMark, NoteTarget
from inspector.core.report import (
    FlowRunReport,
    FlowStepReport,
    render_html,
    render_markdown,
    render_report,
)
from inspector.core.report.environment import markdown_code, markdown_text
from tests.core.report.conftest import IMG, SCRIPT, ReportSession


class Page(HTMLParser):
    """Every start tag with its attributes, the text, and the style sheets' text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_the_summary_names_what_the_report_is_about(report_session: ReportSession) -> None:
    data = report_session.data
    assert data.total == 18
    assert data.status_counts[Status.INVALID] == 2
    assert data.status_counts[Status.UNPLANNED] == 2  # Completed Order and the hostile name
    assert data.plan is not None
    assert data.plan.name == "retention-example.json"
    assert len(data.plan.sha256) == 64
    assert data.audit.config_path is None
    assert {source.write_key for source in data.sources} == {
        "demo-web", "demo-web-ios", "demo-web-backend", "evil-key"}
    assert data.time_range is not None
    assert data.time_range[0] <= data.time_range[1]
    kinds = [group.kind for group in data.violation_groups]
    assert {"Unplanned Event", "Invalid Type", "Required"} <= set(kinds)
    assert not data.passed
    html = render_html(data)
    for text in ("retention-example.json", data.plan.sha256, data.audit.config_hash,
                 "bundled retention defaults", f"inspector {data.inspector_version}",
                 "demo-web-backend", "Violations by kind", "identity.multiple_user_ids"):
        assert text in html


def test_hostile_markup_is_escaped_everywhere_in_html(report_session: ReportSession) -> None:
    html = render_html(report_session.data)
    page = parse(html)
    # The only elements are the template's own: no script, no img, no event handler.
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags
    assert "img" not in tags
    assert not [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    assert "<script" not in html
    text = "".join(page.text)
    # Shown as text: the session's and the source's names, the event name, a property key
    # and value, a trait key, the notes.
    assert text.count(SCRIPT) >= 8
    assert f"{SCRIPT} price sent as a string" in text
    assert IMG in text
    assert f'"{SCRIPT}": "{SCRIPT}"' in text  # the key and value in the event's JSON


def test_nothing_external_is_referenced(report_session: ReportSession) -> None:
    html = render_html(report_session.data)
    page = parse(html)
    references = [value or "" for _, attrs in page.tags for name, value in attrs.items()
                  if name in ("src", "href", "action", "srcset", "poster", "data")]
    assert references  # the table of contents
    assert all(ref.startswith("#") for ref in references), references
    assert not re.search(r"https?://|url\(|@import", "".join(page.styles))
    # Nothing may load or run even if a later template slipped.
    [policy] = [attrs["content"] for tag, attrs in page.tags
                if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"]
    assert policy is not None
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "@media print" in "".join(page.styles)


def test_failing_fields_are_highlighted_in_the_windows_colours(
    report_session: ReportSession,
) -> None:
    data = report_session.data
    [price] = [item for item in data.failing
               if item.event_id == report_session.invalid_price_id and item.check is None]
    marked = [(line.text.strip(), line.highlight) for line in price.lines if line.highlight]
    assert marked == [('"price": "12.5",', "invalid")]
    [missing] = [item for item in data.failing
                 if item.check is None and any("order_id" in r for r in item.reasons)]
    # A missing field: its parent's opening line, as in the detail pane.
    assert [line.text.strip() for line in missing.lines if line.highlight] == [
        '"properties": {']
    html = render_html(data)
    assert '<span class="invalid">    &#34;price&#34;: &#34;12.5&#34;,</span>' in html
    assert "--invalid: #D55E00;" in html  # the palette the window paints with
    # Error findings come with an example event too.
    assert {item.check for item in data.failing if item.check} >= {"drift.property_type"}


def test_junit_has_a_case_per_audit_check_and_parses(report_session: ReportSession) -> None:
    data = report_session.data
    root = ElementTree.fromstring(render_report(data, "junit"))
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    audit = suites[f"inspector audit checkout QA {SCRIPT}"]
    cases = {case.get("name"): case for case in audit.iter("testcase")}
    assert list(cases) == data.audit.checks
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {f.check for f in data.audit.findings if f.severity == "error"}
    assert audit.get("failures") == str(len(failed))
    events = suites[f"inspector events checkout QA {SCRIPT}"]
    kinds = {case.get("name"): case for case in events.iter("testcase")}
    assert kinds["Invalid Type"].find("failure") is not None
    assert kinds["Unplanned Trait"].find("failure") is None  # warnings only


def test_markdown_escapes_what_a_ticket_would_render(report_session: ReportSession) -> None:
    text = render_markdown(report_session.data)
    assert text.startswith(r"# QA report: checkout QA \<script\>alert(1)\</script\>: FAILED")
    outside_code = re.sub(r"(`+)[^`]*?\1", "", re.sub(r"(?ms)^(`{3,})diff$.*?^\1$", "", text))
    assert not re.search(r"(?<!\\)<[a-z/]", outside_code)
    assert f"`{SCRIPT}`" not in outside_code
    assert "  -" in text  # findings listed
    assert '- ' + '    "price": "12.5",' in text  # the offending line, marked in a diff block


def test_markdown_helpers() -> None:
    assert markdown_text("a|b *c* <i>\nd") == r"a\|b \*c\* \<i\> d"
    assert markdown_code("x") == "`x`"
    assert markdown_code("a`b") == "``a`b``"
    assert markdown_code("`a") == "`` `a ``"


def test_no_flow_runs_no_section(report_session: ReportSession) -> None:
    data = report_session.data
    assert data.flow_runs == []
    assert 'id="flows"' not in render_html(data)
    assert "## Flow runs" not in render_markdown(data)
    root = ElementTree.fromstring(render_report(data, "junit"))
    assert not [s for s in root.iter("testsuite") if "flow" in (s.get("name") or "")]


def test_flow_runs_slot_in(report_session: ReportSession) -> None:
    step_note = Note(900, report_session.data.session_id, NoteTarget.STEP,
                     "run-1:Checkout Started", f"cart_id {SCRIPT}", NoteMark.FAIL, 1.0, 1.0)
    run = FlowRunReport(
        id="run-1", flow="guest-checkout", status="failed", started_at=1.7e9, ended_at=1.7e9 + 60,
        steps=[FlowStepReport("Product Viewed", "passed", message_ids=["m-1"]),
               FlowStepReport("Checkout Started", "failed", "properties.cart_id is required"),
               FlowStepReport("Order Refunded", "skipped", "optional"),
               FlowStepReport("Order Completed", "pending")])
    data = dataclasses.replace(report_session.data, flow_runs=[run],
                               notes=[*report_session.data.notes, step_note])
    html = render_html(data)
    assert 'id="flows"' in html
    assert "properties.cart_id is required" in html
    assert f"cart_id {SCRIPT}".replace("<", "&lt;").replace(">", "&gt;") in html
    assert "## Flow runs" in render_markdown(data)
    root = ElementTree.fromstring(render_report(data, "junit"))
    [suite] = [s for s in root.iter("testsuite") if s.get("name", "").startswith("inspector flow ")]
    outcome = {case.get("name"): [child.tag for child in case] for case in suite}
    assert outcome == {"Product Viewed": ["system-out"], "Checkout Started": ["failure"],
                       "Order Refunded": ["skipped"], "Order Completed": ["failure"]}
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")


def test_a_check_lists_its_first_50_findings(report_session: ReportSession) -> None:
    from inspector.core.audit import Finding, FindingSeverity

    data = report_session.data
    many = [Finding("drift.property_type", FindingSeverity.ERROR, f"finding {n}", key=str(n))
            for n in range(60)]
    crowded = dataclasses.replace(data, audit=dataclasses.replace(data.audit, findings=many))
    html, text = render_html(crowded), render_markdown(crowded)
    for shown in (html, text):
        assert "finding 49" in shown
        assert "finding 50" not in shown
        assert "and 10 more (all in the JUnit report" in shown
    assert "finding 59" in render_report(crowded, "junit")
