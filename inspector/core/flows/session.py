"""Flows over a stored session: the same evaluator, fed from the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inspector.core.audit.config import AuditConfig
from inspector.core.flows.evaluate import FlowResult, RunEvaluator
from inspector.core.flows.model import Flow
from inspector.core.gc_tuning import collector_paused
from inspector.core.observed import ObservedEvent, source_of
from inspector.core.store.reader import EventReader, FlowRow

_EMPTY: Mapping[str, Any] = {}

__all__ = ["catch_up", "evaluate_session", "shares_people"]


def catch_up(evaluator: RunEvaluator, store: EventReader, session_id: int, *,
             through: int | None = None) -> None:
    """Feed ``evaluator`` what the session stored since it last read (blocking); ``through``:
    no call above that id (the last its shared graph has seen).

    Only the calls a step can pick (by type, name and write key, in the run's window) are
    read whole; identify and alias calls too, for their traits and previousId. Of the others
    the identity graph needs only the identifiers (userId, anonymousId, and
    ``context.traits.email``, which SQLite reads out), and only once per set of them (see
    :meth:`RunEvaluator.link`): their payloads are not parsed at all. An evaluator that
    shares a graph kept elsewhere is given only the candidates.
    """
    names = store.write_key_names()
    evaluator.read_calls_from(store)
    shares = evaluator.shares_graph
    rows = store.iter_flow_rows(session_id, after_id=evaluator.last_id,
                                filters=evaluator.call_filters(),
                                first_id=evaluator.after_id, until_id=evaluator.until_id,
                                since=evaluator.since, links=not shares, through=through)
    from_row = ObservedEvent.from_row
    feed, feed_link, knows_link = evaluator.feed_row, evaluator.feed_link, evaluator.knows_link
    with collector_paused():
        for row in rows:
            if row.candidate:
                feed(row[:9], names)
            elif row.type == "identify" or row.type == "alias":
                feed_link(from_row(row[:9], names), row.id)
            elif knows_link(row.user_id, row.anonymous_id, row.email):
                feed_link(None, row.id)
            else:
                feed_link(_link_only(row, names), row.id)
    if shares and through is not None:
        # The calls up to ``through`` that were not candidates are done with too.
        evaluator.feed_link(None, through)


def _link_only(row: FlowRow, names: Mapping[str, str]) -> ObservedEvent:
    """A call as the identity graph reads it when no step can pick it: its columns and its
    context email, no payload. Its source is the write key's name or the key (the library
    name is in the payload): the graph's per-source bookkeeping, which no flow reads."""
    write_key = row.write_key
    return ObservedEvent(
        row.id, row.message_id, row.received_at, write_key,
        source_of(write_key, None, names), None, row.type, row.name, row.user_id,
        row.anonymous_id, _EMPTY, _EMPTY, _EMPTY, _EMPTY,
        {"email": row.email} if row.email is not None else _EMPTY, None,
        write_key is not None and write_key in names)


def evaluate_session(store: EventReader, session_id: int, flows: Sequence[Flow],
                     config: AuditConfig | None = None, *, after_id: int = 0,
                     until_id: int | None = None, since: float | None = None,
                     ended: bool = True) -> list[FlowResult]:
    """Evaluate ``flows`` over a stored session's calls in ``(after_id, until_id]`` received
    at or after ``since`` (on a graph of their own: to read people from the session's audit,
    follow them with :class:`~inspector.core.flows.following.FollowedFlows`)."""
    # The collector stays off until the evaluator's calls are freed (by reference counting:
    # they hold no cycles), so no full pass walks them on the way out (bench/flows.py: a
    # third of a second for 100,000 calls).
    with collector_paused():
        evaluator = RunEvaluator(flows, config, after_id=after_id, until_id=until_id,
                                 since=since)
        catch_up(evaluator, store, session_id)
        results = evaluator.results(ended=ended)
        del evaluator
    return results


def shares_people(audit_config: AuditConfig, flow_config: AuditConfig) -> bool:
    """Whether an audit under ``audit_config`` links people as flows under ``flow_config``
    do: the identity graph reads of a configuration only which emails are placeholders."""
    return (audit_config.placeholder_values == flow_config.placeholder_values
            and audit_config.placeholder_patterns == flow_config.placeholder_patterns)
