"""Narrow a side of a comparison to one flow's run over its session.

The flow is evaluated over the whole session with the flows evaluator
(:func:`~inspector.core.flows.session.evaluate_session`, as ``inspector check`` does), and
the side keeps only the calls of the run's steps: each step's satisfying call(s) (every
repetition of a repeatable step), or for a failed step its closest candidate. The run
follows one person when the flow says ``same_person`` (the default), so those are that
person's calls. The order compared by ``sequence_changed`` is then the order of the steps'
first calls (see ``docs/compare.md``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from inspector.core.audit.config import AuditConfig
from inspector.core.compare.engine import Side
from inspector.core.compare.model import Example
from inspector.core.flows.evaluate import FlowResult
from inspector.core.flows.model import Flow
from inspector.core.flows.session import evaluate_session

__all__ = ["FlowSteps", "narrow_to_flow", "run_steps"]


@dataclass(frozen=True, slots=True)
class FlowSteps:
    """A flow's run on one side: its steps' first calls, in the order they arrived."""

    flow: str
    #: (step name, its first call), sorted by arrival (store id); steps with no call left out.
    order: tuple[tuple[str, Example], ...]


def run_steps(result: FlowResult) -> tuple[list[int], FlowSteps]:
    """The event ids of a run's steps and the order of the steps' first calls."""
    ids: list[int] = []
    firsts: list[tuple[str, Example]] = []
    for step in result.steps:
        if not step.events:
            continue
        ids.extend(event_id for event_id, _ in step.events)
        event_id, message_id = min(step.events)
        firsts.append((step.name, Example(event_id, message_id)))
    firsts.sort(key=lambda item: item[1].event_id)
    return sorted(set(ids)), FlowSteps(result.flow, tuple(firsts))


def narrow_to_flow(side: Side, flow: Flow, config: AuditConfig | None = None) -> Side:
    """``side`` reduced to the calls of ``flow``'s run over its session.

    A run that matched no call gives a side with no events: the caller decides what that
    means (``inspector diff`` refuses a baseline run that matched nothing).
    """
    [result] = evaluate_session(side.reader, side.info.session_id, [flow], config)
    ids, steps = run_steps(result)
    info = dataclasses.replace(side.info, events=len(ids), flow=flow.name)
    return dataclasses.replace(side, info=info, event_ids=ids, flow_steps=steps)
