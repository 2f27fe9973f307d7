"""Flow runs in the QA report: kept runs always, ``inspector report --flow`` evaluated too."""

from __future__ import annotations

import asyncio
from pathlib import Path
from xml.etree import ElementTree

from inspector.cli import main
from inspector.core.capture import CaptureService
from inspector.core.flows import load_flow
from inspector.core.flows.runs import start_run
from tests.core.flows.test_bundled_flows import browse, checkout, identify, order
from tests.core.flows.test_check_and_api import send


async def test_the_report_has_a_test_case_per_flow_step(capture: CaptureService,
                                                       tmp_path: Path) -> None:
    store, session = capture.store, capture.session.id
    run = start_run(store, session, [load_flow("guest-checkout")])
    await send(capture, lambda traffic: (browse(traffic), identify(traffic), checkout(traffic),
                                         order(traffic, total="49.00")))
    run.stop()
    target = tmp_path / "report.xml"
    code = await asyncio.get_running_loop().run_in_executor(None, main, [
        "report", "--db", str(store.path), "--format", "junit", "-o", str(target),
        "--flow", "refund"])
    assert code == 1
    root = ElementTree.parse(target).getroot()
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    kept = suites["inspector flow guest-checkout (test)"]
    assert [case.get("name") for case in kept.iter("testcase")] == [
        "Product Viewed", "Added to Cart", "Identified with an email", "Checkout Started",
        "Order Completed"]
    failure = kept.find("testcase[@name='Order Completed']/failure")
    assert failure is not None
    assert failure.get("message") == ("properties.total: Invalid type. Expected: number, "
                                      "given: string")
    checked = suites["inspector flow refund (test)"]
    assert checked.get("failures") == "2"  # its Order Completed fails, Order Refunded pending
