"""``inspector diff --flow``: each side narrowed to one flow run's calls, the steps' order
compared, and a flow that matches nothing on a side. Sessions captured over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main
from tests.support.compare_traffic import regressed_db

__all__ = ["regressed_db"]  # the fixture, imported to be found

#: identify and Checkout Started in any order (a group), then the order: the baseline
#: identifies first, the regressed candidate checks out first.
FLOW = """\
name: identify-then-checkout
same_person: true
steps:
  - name: Identified
    group: before-checkout
    match: {type: identify}
  - name: Checkout Started
    group: before-checkout
    match: {type: track, event: Checkout Started}
  - name: Order Completed
    match: {type: track, event: Order Completed}
"""


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW)
    return path



def test_flow_narrows_each_side_to_its_run(regressed_db: Path, flow_file: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "production", "staging", "--db", str(regressed_db),
                 "--format", "json", "--flow", str(flow_file)])

    data = json.loads(capsys.readouterr().out)
    # One person's three calls per side, not the sessions' 24.
    assert data["baseline"]["events"] == 3
    assert data["candidate"]["events"] == 3
    assert data["baseline"]["flow"] == data["candidate"]["flow"] == "identify-then-checkout"
    events = {(d["kind"], d["event"]) for d in data["differences"]}
    # Calls outside the flow are not compared...
    assert not any(name in ("Newsletter Subscribed", "Promo Shown", "Product Viewed")
                   for _, name in events)
    # ...the flow's own calls are (Order Completed lost its coupon, now from the browser).
    assert ("missing_property", "Order Completed") in events
    assert code == 1
    [sequence] = [d for d in data["differences"] if d["kind"] == "sequence_changed"]
    assert sequence["event"] == "Checkout Started"
    assert sequence["baseline"]["order"] == ["Identified", "Checkout Started",
                                             "Order Completed"]
    assert sequence["candidate"]["order"] == ["Checkout Started", "Identified",
                                              "Order Completed"]
    assert len(sequence["examples"]["baseline"]) == 2


def test_same_session_through_a_flow_has_no_difference(
        regressed_db: Path, flow_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "production", "production", "--db", str(regressed_db),
                 "--format", "json", "--flow", str(flow_file)])

    assert json.loads(capsys.readouterr().out)["differences"] == []
    assert code == 0


def test_flow_matching_nothing_in_the_baseline_is_a_usage_error(
        regressed_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "promo.yaml"
    flow.write_text("name: promo\nsteps:\n  - name: Promo\n"
                    "    match: {type: track, event: Promo Shown}\n")

    assert main(["diff", "production", "staging", "--db", str(regressed_db),
                 "--flow", str(flow)]) == 2
    assert "matched no call in the baseline 'production'" in capsys.readouterr().err

    # The other way round, the candidate's empty run is compared: all of it is missing.
    code = main(["diff", "staging", "production", "--db", str(regressed_db),
                 "--format", "json", "--flow", str(flow)])
    captured = capsys.readouterr()
    assert "matched no call in the candidate 'production'" in captured.err
    kinds = {(d["kind"], d["event"]) for d in json.loads(captured.out)["differences"]}
    assert kinds == {("missing_event", "Promo Shown")}
    assert code == 1


def test_unknown_flow_is_a_usage_error(regressed_db: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "production", "staging", "--db", str(regressed_db),
                 "--flow", "no-such-flow"]) == 2
    assert capsys.readouterr().err
