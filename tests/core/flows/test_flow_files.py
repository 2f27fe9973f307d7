"""Flow files: mistakes are named by file, line and column; the schema describes the format."""

from __future__ import annotations

from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from inspector.core.flows import Flow, FlowError, bundled_flow_names, load_flow, parse_flow
from inspector.core.resources import resource_path

GOOD = """\
name: mine
steps:
  - name: Added to Cart
    match: {type: track, event: Added to Cart}
  - name: Checkout Started
    match: {type: track, event: Checkout Started}
    same_as: {properties.cart_id: Added to Cart}
"""


def test_every_bundled_flow_loads_by_name_and_validates_against_the_schema() -> None:
    assert bundled_flow_names() == ["guest-checkout", "multi-device", "refund",
                                    "returning-customer", "subscription-cancel"]
    validator = jsonschema_rs.validator_for(Flow.json_schema())
    for name in bundled_flow_names():
        loaded = load_flow(name)
        assert loaded.flow.name == name
        assert loaded.origin == f"bundled:{name}"
        path = resource_path("flows", f"{name}.yaml")
        validator.validate(yaml.safe_load(path.read_text()))


def test_a_flow_file_loads_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    loaded = load_flow(str(path))
    assert [step.name for step in loaded.flow.steps] == ["Added to Cart", "Checkout Started"]
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("    match: {type: track, event: Checkout Started}",
                  "    match: {type: trak, event: Checkout Started}"),
     "flow.yaml:6:19: steps.1.match.type"),
    (GOOD + "    optinal: true\n", "flow.yaml:8:5: steps.1.optinal: Extra inputs are not "
                                    "permitted"),
    (GOOD.replace("{properties.cart_id: Added to Cart}", "{properties.cart_id: Cart Added}"),
     "flow.yaml:7:35: steps.1.same_as.properties.cart_id: 'Cart Added' does not start with "
     "the name of an earlier step ('Added to Cart')"),
    (GOOD.replace("name: Checkout Started", "name: Added to Cart"),
     "flow.yaml:5:11: steps.1.name: two steps are named 'Added to Cart'"),
    (GOOD + "    within: soon\n", "flow.yaml:8:13: steps.1.within: Value error, 'soon' is "
                                   "not a duration"),
    (GOOD + "    before: [Added to Cart]\n",
     "flow.yaml:8:13: steps.1.before: before 'Added to Cart' contradicts the order"),
    ("name: x\nsteps: []\n", "flow.yaml:2:8: steps: List should have at least 1 item"),
    ("name: x\nsteps:\n  - name: a\n    match: {fields: {'properties..x': {exists: true}}}\n",
     "flow.yaml:4:21: steps.0.match.fields: Value error, 'properties..x': segment '' is "
     "not a name"),
    ("name: [x\n", "flow.yaml:2:1: expected ',' or ']'"),
    ("- a\n", "flow.yaml:1:1: a flow file must be a mapping"),
])
def test_flow_file_errors_name_the_line_and_column(text: str, message: str) -> None:
    with pytest.raises(FlowError) as raised:
        parse_flow(text, "flow.yaml")
    assert message in str(raised.value)


def test_a_group_cycle_is_an_error() -> None:
    text = """\
name: x
steps:
  - {name: a, group: g, after: [b], match: {type: identify}}
  - {name: b, group: g, after: [a], match: {type: track}}
"""
    with pytest.raises(FlowError, match=r"go round in a circle: a -> b -> a"):
        parse_flow(text, "flow.yaml")


def test_an_unknown_flow_name_lists_the_bundled_ones() -> None:
    with pytest.raises(FlowError, match=r"no bundled flow of that name \(bundled: guest-checkout"):
        load_flow("guest-chekout")
