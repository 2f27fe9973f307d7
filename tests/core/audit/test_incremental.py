"""A live audit (findings read between batches) equals a from-scratch audit of the same calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.audit import AuditConfig, Auditor, Finding
from inspector.core.audit.config import EnvironmentConfig
from inspector.core.observed import ObservedEvent
from inspector.core.timeutil import format_iso

NAMES = {"k-web": "web", "k-backend": "backend"}

users = st.sampled_from(
    [None, "81001", "81002", "ada@shop.test", "5f0c7a8e-2b1d-4c3e-9f6a-0a1b2c3d4e5f"])
anons = st.sampled_from([None, "a-1", "a-2", "a-3", "a-4"])
emails = st.sampled_from([None, "ada@shop.test", "bob@shop.test", "test@test.com"])
keys = st.sampled_from(["k-web", "k-backend", "k-quiz", "k-stg"])
libraries = st.sampled_from(["analytics.js", "analytics-python", "analytics-ios", "quizzly"])
trait_values = st.sampled_from(["gold", "silver", "true", True, False, "", "N/A", 3])
#: Seconds a call's timestamp is before its receipt (None: no timestamp) and sentAt's skew.
delays = st.sampled_from([None, 0.0, 5.0, 30.0, 400.0, 5000.0, 300_000.0, -20.0])
skews = st.sampled_from([None, 0.0, 2.0, 900.0, -7200.0])
# Environments: page hosts and app builds of both, with keys of both (and one of neither).
page_urls = st.sampled_from([None, "https://shop.test/cart", "https://a.staging.shop.test/",
                             "http://localhost:3000/", "not a url"])
apps = st.sampled_from([None, {"namespace": "com.shop.app", "build": "4.2"},
                        {"namespace": "com.shop.app", "build": "4.3-staging"}, {"build": 7}])
#: Every check's findings with environments configured (the environment checks are silent
#: without them).
ENVIRONMENTS = AuditConfig(environments=[
    EnvironmentConfig(name="staging", write_keys=["k-stg"], hosts=["*.staging.shop.test"],
                      app_builds=["*-staging"]),
    EnvironmentConfig(name="production", production=True, write_keys=["web", "k-backend"],
                      hosts=["shop.test", "*.shop.test"], app_namespaces=["com.shop.app"]),
])


# Properties for the drift and items checks: types, names and formats that vary.
item_elements = st.fixed_dictionaries(
    {"price": st.sampled_from([12.5, "12.5", 3])},
    optional={"sku": st.just("MUG-11"), "SKU": st.just("MUG-11"), "name": st.just("Mug"),
              "variant": st.just("black"), "quantity": st.sampled_from([1, 2, "1"])})


@st.composite
def track_properties(draw: st.DrawFn) -> dict[str, Any]:
    properties: dict[str, Any] = draw(st.fixed_dictionaries({}, optional={
        "value": st.sampled_from(["49.90", 49.9, 50, None]),
        "currency": st.sampled_from(["GBP", "gbp", "£4"]),
        "total": st.sampled_from([25.0, 60, "25"]),
        "cart_total": st.just(25.0),
        "delivery_date": st.sampled_from(["2026-01-12", "12/01/2026"]),
    }))
    if draw(st.booleans()):
        key = draw(st.sampled_from(["items", "products"]))
        properties[key] = draw(st.lists(item_elements, max_size=3))
    return properties


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["identify", "track", "page", "alias"]))
    call: dict[str, Any] = {"type": kind, "userId": draw(users), "anonymousId": draw(anons),
                            "write_key": draw(keys),
                            "context": {"library": {"name": draw(libraries)}}}
    url, app = draw(page_urls), draw(apps)
    if url is not None:
        call["context"]["page"] = {"url": url}
    if app is not None:
        call["context"]["app"] = app
    if kind == "identify":
        traits: dict[str, Any] = {}
        email = draw(emails)
        if email:
            traits["email"] = email
        for trait in draw(st.lists(st.sampled_from(["vip_tier", "marketing_opt_in",
                                                    "first_name"]), max_size=2)):
            traits[trait] = draw(trait_values)
        call["traits"] = traits
    elif kind == "track":
        call["event"] = draw(st.sampled_from(["Added to Cart", "Checkout Started",
                                              "Order Completed", "Product Viewed"]))
        # Sources and timing: order and cart ids shared across sources.
        properties = {name: draw(st.sampled_from([None, f"{name[0]}-1", f"{name[0]}-2"]))
                      for name in ("order_id", "cart_id")}
        call["properties"] = {name: v for name, v in properties.items() if v is not None}
        call["event"] = draw(st.sampled_from([call["event"], "order_completed",
                                              "Completed Order"]))  # drift.event_name
        call["properties"].update(draw(track_properties()))
    elif kind == "alias":
        call["previousId"] = draw(st.sampled_from(["a-1", "a-2", "a-9", "81001"]))
        call["userId"] = call["userId"] or "81003"
    # Sources and timing: timestamps late, past the trigger window, early; clocks skewed.
    call["_delay"] = draw(delays)
    call["_skew"] = draw(skews)
    if not call["userId"] and not call["anonymousId"]:
        call["anonymousId"] = "a-5"
    return call


def observed(number: int, call: dict[str, Any]) -> ObservedEvent:
    payload = {key: value for key, value in call.items()
               if key not in ("write_key", "_delay", "_skew")}
    received = 1_800_000_000.0 + number
    if call.get("_delay") is not None:
        payload["timestamp"] = format_iso(datetime.fromtimestamp(received - call["_delay"], UTC))
    if call.get("_skew") is not None:
        payload["sentAt"] = format_iso(datetime.fromtimestamp(received + call["_skew"], UTC))
    return ObservedEvent.build(
        id=number, received_at=received, write_key=call["write_key"],
        type=call["type"], name=call.get("event"), user_id=call["userId"],
        anonymous_id=call["anonymousId"], message_id=f"m-{number}", payload=payload,
        write_key_names=NAMES,
    )


def comparable(findings: list[Finding]) -> list[tuple[Any, ...]]:
    return sorted((f.check, f.key, str(f.severity), f.message, f.event_ids, f.person)
                  for f in findings)


#: Segments whose findings change as people merge, learn an email or a trait, and as the
#: session's clock moves a short window (calls here arrive one second apart).
SEGMENTS = AuditConfig.model_validate({"segments": [
    {"name": "carts, no email, last 5 s", "match": {"type": "track",
                                                   "event": ["Added to Cart"]},
     "within": "5s", "expect": {"person": {"email_known": True}}},
    {"name": "identified checkouts without consent",
     "match": {"event": "Checkout Started", "person": {"identified": True}},
     "expect": {"person": {"consent_known": True, "single_user_id": True},
                "fields": {"properties.cart_id": {"exists": True}}}},
    {"name": "orders missing a total", "match": {"event": "Order Completed"},
     "expect": {"fields": {"properties.total": {"type": "number"}}}},
]})


def live_equals_scratch(session: list[dict[str, Any]], cuts: list[int],
                        config: AuditConfig | None) -> None:
    events = [observed(number, call) for number, call in enumerate(session, start=1)]
    scratch = Auditor(config)
    scratch.feed(events)
    expected = comparable(scratch.findings())

    live = Auditor(config)
    position = 0
    for cut in cuts:
        live.feed(events[position:position + cut])
        position += cut
        live.findings()  # read between batches, as the window and the REST API do
    live.feed(events[position:])
    assert comparable(live.findings()) == expected
    assert [p.to_dict() for p in live.people()] == [p.to_dict() for p in scratch.people()]


@settings(max_examples=150, deadline=None)
@given(st.lists(calls(), min_size=1, max_size=40), st.lists(st.integers(1, 8), max_size=10))
def test_live_findings_equal_a_from_scratch_audit(
    session: list[dict[str, Any]], cuts: list[int]
) -> None:
    live_equals_scratch(session, cuts, ENVIRONMENTS)


@settings(max_examples=150, deadline=None)
@given(st.lists(calls(), min_size=1, max_size=40), st.lists(st.integers(1, 8), max_size=10))
def test_live_segments_equal_a_from_scratch_audit(
    session: list[dict[str, Any]], cuts: list[int]
) -> None:
    live_equals_scratch(session, cuts, SEGMENTS)


@st.composite
def cart_calls(draw: st.DrawFn) -> dict[str, Any]:
    """Carts, identifies and page views of a few shoppers: the people-counting segments'
    traffic, dense enough that windows expire and people merge between reads."""
    kind = draw(st.sampled_from(["cart", "cart", "identify", "page", "alias"]))
    call: dict[str, Any] = {"userId": None, "anonymousId": draw(anons),
                            "write_key": "k-web",
                            "context": {"library": {"name": "analytics.js"}}}
    if kind == "cart":
        call.update(type="track", event="Added to Cart",
                    properties=draw(st.sampled_from([{}, {"cart_id": "c-1"}])))
    elif kind == "identify":
        call.update(type="identify", userId=draw(users),
                    traits=draw(st.sampled_from([{}, {"email": "ada@shop.test"},
                                                 {"marketing_opt_in": True}])))
    elif kind == "alias":
        call.update(type="alias", userId=draw(users) or "81003",
                    previousId=draw(st.sampled_from(["a-1", "a-2", "a-9"])))
    else:
        call.update(type="page", name="Home")
    call["_delay"] = call["_skew"] = None
    if not call["userId"] and not call["anonymousId"]:
        call["anonymousId"] = "a-5"
    return call


@settings(max_examples=200, deadline=None)
@given(st.lists(cart_calls(), min_size=1, max_size=30), st.lists(st.integers(1, 4), max_size=12))
def test_live_people_segments_equal_a_from_scratch_audit(
    session: list[dict[str, Any]], cuts: list[int]
) -> None:
    live_equals_scratch(session, cuts, SEGMENTS)


def reference_people(events: list[ObservedEvent], placeholder: Any) -> set[frozenset[str]]:
    """People as plain connected components over every link, with no union-find or caches."""
    links: dict[str, set[str]] = {}

    def link(a: str, b: str) -> None:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)

    appearing = {f"user:{e.user_id}" for e in events if e.user_id} | {
        f"anon:{e.anonymous_id}" for e in events if e.anonymous_id}
    for event in events:
        nodes = []
        if event.user_id:
            nodes.append(f"user:{event.user_id}")
            if "@" in event.user_id and not placeholder(event.user_id):
                nodes.append(f"email:{event.user_id.lower()}")
        if event.anonymous_id:
            nodes.append(f"anon:{event.anonymous_id}")
        traits = event.traits if event.type == "identify" else {}
        email = traits.get("email")
        if isinstance(email, str) and "@" in email and not placeholder(email):
            nodes.append(f"email:{email.lower()}")
        for node in nodes:
            links.setdefault(node, set())
        for other in nodes[1:]:
            link(nodes[0], other)
        previous = event.payload.get("previousId") if event.type == "alias" else None
        if previous and nodes:
            for kind in ("user", "anon"):
                if f"{kind}:{previous}" in appearing:  # an alias of an unseen id links nothing
                    link(nodes[0], f"{kind}:{previous}")
    seen: set[str] = set()
    components = set()
    for start in links:
        if start in seen:
            continue
        stack, component = [start], set()
        while stack:
            node = stack.pop()
            if node in component:
                continue
            component.add(node)
            stack.extend(links[node] - component)
        seen |= component
        components.add(frozenset(component))
    return components


@settings(max_examples=150, deadline=None)
@given(st.lists(calls(), min_size=1, max_size=40))
def test_people_are_the_connected_components_of_the_links(session: list[dict[str, Any]]) -> None:
    events = [observed(number, call) for number, call in enumerate(session, start=1)]
    auditor = Auditor()
    auditor.feed(events)
    found = {
        frozenset([f"user:{u['value']}" for u in person["user_ids"]]
                  + [f"anon:{a}" for a in person["anonymous_ids"]]
                  + [f"email:{e}" for e in person["emails"]])
        for person in (p.to_dict() for p in auditor.people())
    }
    assert found == reference_people(events, auditor.config.is_placeholder)


def test_a_new_email_on_a_known_pair_still_links() -> None:
    # The same userId and anonymousId twice, with a different email each time: both
    # emails belong to the person (a cache of already-linked identifier sets must not
    # swallow the second).
    first = {"type": "identify", "userId": "81001", "anonymousId": "a-1",
             "write_key": "k-web", "traits": {"email": "ada@shop.test"}}
    second = {**first, "traits": {"email": "bob@shop.test"}}
    auditor = Auditor()
    auditor.feed([observed(1, first), observed(2, second)])
    [person] = auditor.people()
    assert sorted(person.emails) == ["ada@shop.test", "bob@shop.test"]


odd_contexts = st.sampled_from([
    None, "not an object", {}, {"library": "x"}, {"library": {"name": ""}},
    {"library": {"name": "analytics.js"}, "device": {"id": "d-1"}, "traits": {"email": "a@b.c"}},
    {"device": {"id": 7}, "traits": ["no"]},
])


@settings(max_examples=150, deadline=None)
@given(calls(), odd_contexts, st.sampled_from(["k-web", "k-quiz", "", None]),
       st.sampled_from([None, "", "[1]", "{}"]))
def test_a_stored_row_builds_the_same_event(call: dict[str, Any], context: Any,
                                            write_key: str | None, raw: str | None) -> None:
    """The audit of a stored session reads rows with ``ObservedEvent.from_row``: the same
    event as ``build`` from the same columns (payload as JSON text, or none)."""
    import orjson

    event = observed(1, call)
    payload = dict(event.payload)
    if context is not None:
        payload["context"] = context
    for text in (orjson.dumps(payload).decode(), raw):
        row = (7, 1_800_000_000.5, write_key, event.type, event.name, event.user_id,
               event.anonymous_id, "m-7", text)
        expected = ObservedEvent.build(
            id=7, received_at=1_800_000_000.5, write_key=write_key, type=event.type,
            name=event.name, user_id=event.user_id, anonymous_id=event.anonymous_id,
            message_id="m-7", payload=text or None, write_key_names={**NAMES, "": "blank"},
        )
        assert ObservedEvent.from_row(row, {**NAMES, "": "blank"}) == expected
