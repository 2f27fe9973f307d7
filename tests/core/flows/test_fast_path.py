"""The fast way flows read a stored session gives exactly what reading every call whole does.

``catch_up`` parses only the calls a step can pick (and identify / alias calls), feeds the
identity graph each set of identifiers once, and reads the rest's context email in SQLite. The
reference here is the plain way: every stored call parsed into an ObservedEvent and given to
the graph and to every flow.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.live import SessionAudit, observe_rows
from inspector.core.demo import demo_calls
from inspector.core.flows import Flow, RunEvaluator, bundled_flow_names, load_flow, parse_flow
from inspector.core.flows.evaluate import _Walk
from inspector.core.flows.following import FollowedFlows
from inspector.core.flows.session import catch_up, evaluate_session
from inspector.core.observed import ObservedEvent
from inspector.core.store import EventStore, GroupCommitWriter, PendingEvent, PendingRequest

NAMES = {"k-web": "web", "k-backend": "backend"}

#: Steps matched by write key, by source and library (not pre-filtered in SQL), by type alone,
#: and one that picks any call by a field: the pre-filter's every branch.
ODD_FLOW = parse_flow("""
name: odd
same_person: false
steps:
  - name: Web page
    match: {type: page, write_key: k-web}
  - name: From the backend
    match: {source: backend}
    optional: true
  - name: Any with a cart
    match: {fields: {properties.cart_id: {exists: true}}}
    expect: {library: server}
""").flow
KEYED_FLOW = parse_flow("""
name: keyed
steps:
  - name: Python identify
    match: {type: identify, library: server}
    expect: {person: {email_known: true}}
  - name: Quiz order
    match: {event: [Order Completed, Completed Order], write_key: [k-quiz, k-stg]}
    same_as: {userId: Python identify}
""").flow

#: A repeatable step whose WHEN also picks the next step's call (which ends the repetitions,
#: and is not one of them).
REPEAT_FLOW = parse_flow("""
name: repeat
steps:
  - name: Cart calls
    match: {type: track, fields: {properties.cart_id: {exists: true}}}
    repeatable: true
    expect: {fields: {properties.quantity: {type: integer, min: 1}}}
  - name: Checkout
    match: {type: track, event: Checkout Started}
""").flow

#: A person condition that a call nobody picks can satisfy (its context email).
EMAIL_FLOW = parse_flow("""
name: email
same_person: false
steps:
  - name: Checkout with an email known
    match: {type: track, event: Checkout Started}
    expect: {person: {email_known: true}}
""").flow


def _flows() -> list[Flow]:
    """Flows whose every step names a type, event or write key: the store reads only their
    candidates whole."""
    return [load_flow(name).flow for name in bundled_flow_names()] + [KEYED_FLOW, EMAIL_FLOW]


#: The pre-filtered run, and one with a step that can pick any call (everything read whole).
FLOW_SETS = [_flows(), [ODD_FLOW, KEYED_FLOW, REPEAT_FLOW]]


class _Everything(RunEvaluator):
    """Today's reference: every call to the graph (no set of identifiers skipped)."""

    def link(self, event: ObservedEvent) -> None:
        self.graph.observe(event)


@contextmanager
def _scanning_every_candidate() -> Iterator[None]:
    """The walk as it was before it kept candidates by identifier: a same-person step scans
    every candidate and looks up each one's person."""
    indexed = _Walk.positions
    _Walk.positions = lambda self, compiled, low, high: range(low, high)  # type: ignore[method-assign]
    try:
        yield
    finally:
        _Walk.positions = indexed  # type: ignore[method-assign]


def _store_calls(store: EventStore, session_id: int, payloads: Sequence[dict[str, Any]],
                 keys: Sequence[str | None], start: float) -> None:
    writer = GroupCommitWriter(store.path, search_index=False)
    writer.start()
    try:
        futures = []
        for number, (payload, key) in enumerate(zip(payloads, keys, strict=True)):
            call_type = payload.get("type")
            name = payload.get("event") if call_type == "track" else payload.get("name")
            futures.append(writer.submit(PendingRequest(
                session_id=session_id, received_at=start + number, method="POST",
                path="/v1/batch", query=None, remote_addr="127.0.0.1", headers_json="{}",
                body=None, body_size=0, http_status=200, events=[PendingEvent(
                    start + number, key, call_type, name if isinstance(name, str) else None,
                    payload.get("userId"), payload.get("anonymousId"),
                    payload.get("messageId"), None, "valid", 0, "[]",
                    orjson.dumps(payload).decode())])))
        for future in futures:
            future.result()
    finally:
        writer.stop()


def _reference(store: EventStore, session_id: int, flows: Sequence[Flow],
               config: AuditConfig, **window: Any) -> list[dict[str, Any]]:
    evaluator = _Everything(flows, config, **window)
    evaluator.feed(observe_rows(store.iter_call_rows(session_id), store.write_key_names()))
    return [result.to_dict() for result in evaluator.results(ended=True)]


def _compare(payloads: Sequence[dict[str, Any]], keys: Sequence[str | None],
             cuts: Sequence[int], window: dict[str, Any]) -> None:
    for flows in FLOW_SETS:
        _compare_flows(flows, payloads, keys, cuts, window)


def _compare_flows(flows: list[Flow], payloads: Sequence[dict[str, Any]],
                   keys: Sequence[str | None], cuts: Sequence[int],
                   window: dict[str, Any]) -> None:
    config = AuditConfig()
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "fast.sqlite3")
        try:
            session = store.create_session("fast")
            for key, name in NAMES.items():
                store.name_write_key(key, name)
            start = time.time() - len(payloads)
            live = RunEvaluator(flows, config, **window)
            # Live on the session audit's graph (serve): fed only candidates, the audit
            # caught up first.
            audit = SessionAudit(store, session.id, config)
            shared = RunEvaluator(flows, config, graph=audit.auditor.graph, **window)
            position = 0
            for cut in [*cuts, len(payloads)]:  # live: caught up between batches
                chunk = slice(position, position + cut)
                _store_calls(store, session.id, payloads[chunk], keys[chunk], start + position)
                position += len(payloads[chunk])
                catch_up(live, store, session.id)
                live.results()
                catch_up(shared, store, session.id, through=audit.catch_up())
                with audit.held():
                    shared.results()
            expected = _reference(store, session.id, flows, config, **window)
            with _scanning_every_candidate():
                assert _reference(store, session.id, flows, config, **window) == expected
            fast = evaluate_session(store, session.id, flows, config, **window)
            assert [result.to_dict() for result in fast] == expected
            assert [result.to_dict() for result in live.results(ended=True)] == expected
            assert [result.to_dict() for result in shared.results(ended=True)] == expected
            assert shared.last_id == audit.last_id == store.session_last_event_id(session.id)
            # One-off, on an audit kept by the caller (new: it catches up first).
            fresh = SessionAudit(store, session.id, config)
            on_audit = FollowedFlows(store, session.id, flows, config, **window,
                                     audits=lambda _: fresh).read(ended=True)
            assert [result.to_dict() for result in on_audit] == expected
        finally:
            store.close()


users = st.sampled_from([None, None, "81001", "81002", "ada@shop.test"])
anons = st.sampled_from([None, "a-1", "a-2", "a-3"])
libraries = st.sampled_from(["analytics.js", "analytics.js", "analytics-python",
                             "analytics-ios"])
#: context.traits as analytics.js sends it (the email remembered on every call), odd ones too.
context_traits = st.sampled_from([None, None, {"email": "ada@shop.test"},
                                  {"email": "Bob@Shop.test"}, {"email": "test@test.com"},
                                  {"email": 3}, "not an object",
                                  {"email": "caf\u00e9@shop.test", "name": "a \\ b"}])
item = st.fixed_dictionaries({"sku": st.just("MUG-11")}, optional={
    "price": st.sampled_from([12.5, "12.5"]), "quantity": st.sampled_from([1, 0])})
#: The fields the bundled flows ask for, right and wrong, so that steps pass as often as fail.
properties = st.fixed_dictionaries({}, optional={
    "product_id": st.sampled_from(["P-1", ""]), "sku": st.just("MUG-11"),
    "price": st.sampled_from([12.5, "12.5"]), "quantity": st.sampled_from([1, 2, 0]),
    "cart_id": st.sampled_from(["c-1", "c-2"]), "order_id": st.sampled_from(["o-1", "o-2"]),
    "total": st.sampled_from([25.0, "25"]), "currency": st.sampled_from(["GBP", "gbp"]),
    "items": st.lists(item, max_size=2), "subscription_id": st.just("s-1")})
events = st.sampled_from(["Product Viewed", "Added to Cart", "Checkout Started",
                          "Order Completed", "Order Refunded", "Subscription Canceled",
                          "Completed Order", "Wishlist Viewed"])


@st.composite
def stored_calls(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    kind = draw(st.sampled_from(["track", "track", "track", "identify", "page", "alias",
                                 "screen"]))
    call: dict[str, Any] = {"type": kind, "userId": draw(users), "anonymousId": draw(anons),
                            "context": {"library": {"name": draw(libraries)}}}
    traits = draw(context_traits)
    if traits is not None:
        call["context"]["traits"] = traits
    if kind == "identify":
        call["traits"] = draw(st.fixed_dictionaries({}, optional={
            "email": st.sampled_from(["ada@shop.test", "bob@shop.test", "test@test.com"]),
            "marketing_opt_in": st.sampled_from([True, False, "true"]),
            "vip_tier": st.just("gold")}))
    elif kind == "track":
        call["event"] = draw(events)
        call["properties"] = draw(properties)
    elif kind in ("page", "screen"):
        call["name"] = draw(st.sampled_from([None, "Product", "Cart"]))
    elif kind == "alias":
        call["previousId"] = draw(st.sampled_from(["a-1", "a-2", "a-9", "81001"]))
        call["userId"] = call["userId"] or "81003"
    if not call["userId"] and not call["anonymousId"]:
        call["anonymousId"] = "a-4"
    key = {"analytics-python": "k-backend", "analytics.js": "k-web"}.get(
        call["context"]["library"]["name"], "k-quiz")
    return call, draw(st.sampled_from([key, key, key, "k-stg", None]))


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    window: dict[str, Any] = {}
    if draw(st.booleans()):
        window["after_id"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        window["until_id"] = draw(st.integers(5, 40))
    return window


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stored_calls(), min_size=1, max_size=40),
       st.lists(st.integers(1, 12), max_size=4), windows())
def test_the_fast_path_gives_what_reading_every_call_gives(
        session: list[tuple[dict[str, Any], str | None]], cuts: list[int],
        window: dict[str, Any]) -> None:
    _compare([call for call, _ in session], [key for _, key in session], cuts, window)


def test_the_demo_checkout_gives_the_same_results_both_ways() -> None:
    payloads = [body for _, body in demo_calls("k-web")]
    keys = [body.pop("writeKey", "k-web") for body in payloads]
    _compare(payloads, keys, [5, 3], {})
    _compare(payloads, keys, [], {"after_id": 4})


def test_since_narrows_candidates_the_same_way() -> None:
    """``--since``: calls received before it are no step's (read in SQL, and in Python)."""
    payloads = [body for _, body in demo_calls("k-web")]
    keys = [body.pop("writeKey", "k-web") for body in payloads]
    _compare(payloads, keys, [], {"since": time.time() - len(payloads) / 2})


def _page(anonymous_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": "page", "anonymousId": anonymous_id,
            "context": {"library": {"name": "analytics.js"}}, **fields}


def test_an_email_only_a_page_carried_counts() -> None:
    """The page's payload is never parsed (no step picks it): SQLite reads its email."""
    payloads = [
        _page("a-1", context={"library": {"name": "analytics.js"},
                              "traits": {"email": "ada@shop.test"}}),
        {"type": "track", "event": "Checkout Started", "anonymousId": "a-1",
         "properties": {"cart_id": "c-1"}},
    ]
    _compare(payloads, ["k-quiz"] * 2, [], {})
    [email] = [result for result in evaluate_session_of(payloads, "k-quiz")
               if result["flow"] == "email"]
    assert email["status"] == "passed"


def test_userids_are_named_in_the_order_first_seen_however_people_merged() -> None:
    """Which side of a merge absorbs the other depends on how many calls each had; the graph
    sees fewer calls on the fast path, so the words must not depend on it."""
    backend = {"context": {"library": {"name": "analytics-python"}}}
    payloads = [
        {"type": "identify", "userId": "81001", "anonymousId": "a-2", **backend},
        {"type": "identify", "userId": "81001", "anonymousId": "a-3", **backend},
        {"type": "identify", "userId": "81001", **backend},
        *[_page("a-1") for _ in range(10)],  # the other side: many calls, one set of ids
        {"type": "track", "event": "Product Viewed", "userId": "81002", "anonymousId": "a-1",
         **backend},
        {"type": "identify", "userId": "81001", "anonymousId": "a-1", **backend},
    ]
    _compare(payloads, ["k-backend"] * len(payloads), [], {"after_id": len(payloads) - 1})
    [returning] = [result for result in evaluate_session_of(payloads, "k-backend",
                                                            after_id=len(payloads) - 1)
                   if result["flow"] == "returning-customer"]
    assert returning["steps"][0]["reason"] == "the sender carries 2 userIds: 81001, 81002"


def evaluate_session_of(payloads: Sequence[dict[str, Any]], key: str, **window: Any
                        ) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "one.sqlite3")
        try:
            session = store.create_session("one")
            _store_calls(store, session.id, payloads, [key] * len(payloads), time.time())
            return [result.to_dict() for result in evaluate_session(
                store, session.id, _flows(), AuditConfig(), **window)]
        finally:
            store.close()


def test_a_repetition_ends_at_the_next_steps_call_even_when_it_matches_too() -> None:
    """The checkout call carries a cart_id, so the repeatable step's WHEN picks it as well:
    it ends the repetitions and is not judged as one (its quantity 0 would fail them)."""
    track = {"type": "track", "anonymousId": "a-1",
             "context": {"library": {"name": "analytics.js"}}}
    payloads = [
        {**track, "event": "Added to Cart", "properties": {"cart_id": "c-1", "quantity": 1}},
        {**track, "event": "Added to Cart", "properties": {"cart_id": "c-1", "quantity": 2}},
        {**track, "event": "Checkout Started", "properties": {"cart_id": "c-1", "quantity": 0}},
    ]
    _compare(payloads, ["k-web"] * 3, [], {})
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "repeat.sqlite3")
        try:
            session = store.create_session("repeat")
            _store_calls(store, session.id, payloads, ["k-web"] * 3, time.time())
            [result] = evaluate_session(store, session.id, [REPEAT_FLOW])
        finally:
            store.close()
    cart, checkout = result.steps
    assert (str(result.status), str(cart.status), str(checkout.status)) == (
        "passed", "passed", "passed")
    assert [event_id for event_id, _ in cart.events] == [1, 2]
    assert [event_id for event_id, _ in checkout.events] == [3]


def test_a_candidate_is_read_again_to_word_its_reason_and_never_passes_once_gone() -> None:
    """Stored candidates keep only their call's id: the closest call's reason is worded from
    the store when the run is read; if the session was deleted meanwhile, the step still
    fails, saying why nothing more can be shown."""
    payloads = [{"type": "track", "event": "Order Completed", "userId": "81001",
                 "context": {"library": {"name": "analytics-python"}},
                 "properties": {"order_id": "o-1", "total": "25", "currency": "GBP"}}]
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "gone.sqlite3")
        try:
            session = store.create_session("gone")
            _store_calls(store, session.id, payloads, ["k-backend"], time.time())
            evaluator = RunEvaluator([REPEAT_FLOW, load_flow("refund").flow])
            catch_up(evaluator, store, session.id)
            [order] = [flow for flow in evaluator.flows if flow.flow.name == "refund"]
            [candidate] = order._steps[0].candidates
            assert candidate.origin == 1  # the id, not the call
            reason = evaluator.results()[1].steps[0].reason
            assert reason is not None
            assert "properties.total" in reason

            fresh = RunEvaluator([load_flow("refund").flow])
            catch_up(fresh, store, session.id)
            store.delete_session(session.id)
            step = fresh.results()[0].steps[0]
            assert str(step.status) == "failed"
            assert step.reason == ("the call is no longer stored, so what it breaks cannot be "
                                   "shown")
        finally:
            store.close()
