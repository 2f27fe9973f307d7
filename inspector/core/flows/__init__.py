"""Checkout flows: live checklists of the calls a tester's journey must send.

* :mod:`~inspector.core.flows.model`: the flow file (steps in the condition language, with
  relations between them);
* :mod:`~inspector.core.flows.files`: bundled flows by name, the user's by path;
* :mod:`~inspector.core.flows.evaluate`: per-step status from calls fed live or read back;
* :mod:`~inspector.core.flows.runs`: runs kept with their session.

The format and the rules of evaluation are in ``docs/flows.md``.
"""

from inspector.core.flows.evaluate import (
    FlowEvaluator,
    FlowResult,
    RunEvaluator,
    RunStatus,
    StepResult,
    StepStatus,
)
from inspector.core.flows.files import LoadedFlow, bundled_flow_names, load_flow, parse_flow
from inspector.core.flows.model import Flow, FlowError, Step, StepExpectation

__all__ = [
    "Flow",
    "FlowError",
    "FlowEvaluator",
    "FlowResult",
    "LoadedFlow",
    "RunEvaluator",
    "RunStatus",
    "Step",
    "StepExpectation",
    "StepResult",
    "StepStatus",
    "bundled_flow_names",
    "load_flow",
    "parse_flow",
]
