"""The profile kept with each session: merged batch by batch into what one pass builds, kept
up to date beside the capture writer, and giving the same comparison however far the builder
got (not started, part way, caught up), under any ignore list."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from inspector.core.compare import CompareOptions, Comparison, compare, engine, open_side
from inspector.core.compare.options import ENUM_MAX_VALUES
from inspector.core.compare.profile import build_profile, profile_rows
from inspector.core.compare.raw import FORMAT, RawProfile, decode, encode, merge
from inspector.core.compare.stored import ProfileBuilder, load_profile, profile_batch
from inspector.core.store import EventStore, GroupCommitWriter
from inspector.core.store.reader import CallRow
from inspector.core.store.schema import _SESSION_PROFILES, MIGRATIONS
from tests.core.test_store import request
from tests.support.compare_traffic import baseline_flow, capture_into

OPTIONS = [
    CompareOptions(),
    CompareOptions(ignore=("properties.coupon", "properties.st*", "context.page")),
    CompareOptions(value_ignore=("*currency",), ignore=("traits.first_name",)),
    CompareOptions(defaults=False),
]


def _copy(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as old, sqlite3.connect(target) as new:
        old.backup(new)
    return target


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _compare(path: Path, options: CompareOptions) -> Comparison:
    store = EventStore(path)
    try:
        with open_side("production", store) as old, open_side("staging", store) as new:
            return compare(old, new, options)
    finally:
        store.close()


def _kept(path: Path) -> dict[int, int]:
    """Session id -> watermark of the profiles kept in ``path``."""
    with _connect(path) as connection:
        return dict(connection.execute(
            "SELECT session_id, profiled_upto FROM session_profiles").fetchall())


@pytest.fixture
def fresh(regressed_db: Path, tmp_path: Path) -> Path:
    """A copy of the regressed captures with no profile kept (whatever the capture's builder
    got to)."""
    path = _copy(regressed_db, tmp_path / "copy.sqlite3")
    with _connect(path) as connection:
        connection.execute("DELETE FROM session_profiles")
    return path


def test_every_watermark_the_builder_passes_gives_the_same_comparison(fresh: Path) -> None:
    streamed = [_compare(fresh, options) for options in OPTIONS]
    assert all(comparison.differences for comparison in streamed)
    assert streamed[1].differences != streamed[0].differences  # the options matter
    states = []
    connection = _connect(fresh)
    while True:
        # Five events a batch: each session is part-profiled at several watermarks.
        count, _ = profile_batch(connection, 5)
        states.append(_kept(fresh))
        assert [_compare(fresh, options) for options in OPTIONS] == streamed, states[-1]
        if not count:
            break
    connection.close()
    assert len(states) > 6
    store = EventStore(fresh)
    try:
        for session in store.list_sessions():
            assert states[-1][session.id] == store.session_last_event_id(session.id)
            kept = load_profile(store, session.id)
            assert kept is not None
            # Caught up: the kept profile is the whole session's, as one pass builds it.
            assert kept[1] == profile_rows(store.iter_call_rows(session.id))
            for options in OPTIONS:
                assert (build_profile(store, session.id, options)
                        == build_profile(store, session.id, options, stored=False))
    finally:
        store.close()


def _rows() -> Iterator[CallRow]:
    """Calls with every feature a profile keeps: nesting, arrays of objects and scalars,
    paths that come and go, a property that stops being enum-like only after many calls,
    addresses, nulls, several sources and userId shapes, a payload that is not JSON."""
    for number in range(1, 121):
        # plan: ten values in the first half, thirteen in the second, too many in all.
        plan = number % 10 if number <= 60 else ENUM_MAX_VALUES - 10 + number % 13
        properties: dict[str, Any] = {"plan": f"plan-{plan}",
                                      "currency": "USD" if number % 5 else "EUR"}
        if number % 3:
            properties["items"] = [{"sku": f"S{number}", "qty": 1}, 2, "x"][: number % 4]
        if number % 7 == 0:
            properties["coupon"] = None if number % 2 else "SPRING"
        if number % 11 == 0:
            properties["contact"] = "a@b.test"
        payload: dict[str, Any] = {
            "type": "track", "event": "E" if number % 4 else "F", "properties": properties,
            "context": {"library": {"name": "analytics.js" if number % 6 else
                                    "analytics-python"}}}
        text = orjson.dumps(payload).decode() if number % 37 else "{not json"
        user = str(number) if number % 2 else f"u{number}@x.test"
        yield CallRow(number, 0.0, "k1" if number % 9 else "k2", "track", payload["event"],
                      user, None, f"m{number}", text)


def test_profiles_of_consecutive_runs_merge_into_the_one_pass_profile() -> None:
    rows = list(_rows())
    whole = profile_rows(rows)
    plans = [profile_rows(rows[:60]), profile_rows(rows[60:]), whole]
    assert [profile.events[("track", "E")].paths["properties.plan"].closed
            for profile in plans] == [False, False, True]
    assert decode(encode(whole)) == whole
    for cut in range(len(rows) + 1):
        merged = merge(profile_rows(rows[:cut]), profile_rows(rows[cut:]))
        assert merged == whole, cut
        assert decode(encode(merged)) == whole
    for first, second in ((10, 70), (59, 61), (1, 119)):
        merged = merge(merge(profile_rows(rows[:first]), profile_rows(rows[first:second])),
                       profile_rows(rows[second:]))
        assert merged == whole
    later = profile_rows(rows[40:])
    before = encode(later)
    merge(profile_rows(rows[:40]), later)
    assert encode(later) == before  # the later side is left as it was


def test_ignoring_an_object_ignores_what_is_under_it(fresh: Path) -> None:
    connection = _connect(fresh)
    profile_batch(connection, 10)  # part of the baseline kept
    connection.close()
    everything = _compare(fresh, CompareOptions())
    assert any(d.path and d.path.startswith("properties.") for d in everything.differences)
    assert any(d.path and d.path.startswith("traits.") for d in everything.differences)
    ignored = _compare(fresh, CompareOptions(ignore=("properties", "traits")))
    assert [d.path for d in ignored.differences
            if d.path and d.path.startswith(("properties", "traits"))] == []
    assert [d for d in ignored.differences if d.path == "userId"] == [
        d for d in everything.differences if d.path == "userId"]


def test_the_builder_keeps_up_beside_the_writer(db_path: Path) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    writer.start()
    try:
        _, events = writer.write(request(session.id, "A", "B", "C"))
        assert writer.profile_builder.wait_until_indexed(events[-1].id, timeout=30)
        assert _kept(db_path) == {session.id: events[-1].id}
        _, more = writer.write(request(session.id, "B", "D"))
        assert writer.profile_builder.wait_until_indexed(more[-1].id, timeout=30)
    finally:
        writer.stop()
    kept = load_profile(store, session.id)
    assert kept is not None
    assert kept[0] == more[-1].id
    assert kept[1] == profile_rows(store.iter_call_rows(session.id))
    assert kept[1].events[("track", "B")].count == 2
    store.close()


def test_a_database_from_before_profiles_is_profiled_when_the_builder_starts(
        fresh: Path) -> None:
    streamed = _compare(fresh, CompareOptions())
    with _connect(fresh) as connection:  # as the version before profiles left it
        connection.execute("DROP TABLE session_profiles")
        # (and before the summary counts kept, which came after them)
        connection.execute("DROP TABLE session_counts")
        connection.execute("DROP TABLE session_counted")
        connection.execute(f"PRAGMA user_version = {MIGRATIONS.index(_SESSION_PROFILES)}")
    store = EventStore(fresh)  # migrates
    assert _kept(fresh) == {}
    assert _compare(fresh, CompareOptions()) == streamed  # nothing kept yet: it streams
    builder = ProfileBuilder(fresh)
    builder.start()
    try:
        last = max(store.session_last_event_id(s.id) for s in store.list_sessions())
        assert builder.wait_until_indexed(last, timeout=30)
    finally:
        builder.stop()
    assert sorted(_kept(fresh).values()) == sorted(
        store.session_last_event_id(s.id) for s in store.list_sessions())
    assert _compare(fresh, CompareOptions()) == streamed
    store.close()


async def test_a_deleted_sessions_profile_goes_with_it(fresh: Path) -> None:
    connection = _connect(fresh)
    while profile_batch(connection, 1000)[0]:
        pass
    store = EventStore(fresh)
    staging = store.session_by_name("staging")
    assert staging is not None
    assert load_profile(store, staging.id) is not None
    store.delete_session(staging.id)
    assert load_profile(store, staging.id) is None
    # The next session takes the deleted one's id, and its events the deleted events' ids.
    again = await capture_into(fresh, "staging", lambda traffic: baseline_flow(traffic, seed=2))
    assert again.id == staging.id
    while profile_batch(connection, 7)[0]:
        pass
    connection.close()
    kept = load_profile(store, again.id)
    assert kept is not None
    assert kept[1] == profile_rows(store.iter_call_rows(again.id))
    store.close()
    assert _compare(fresh, CompareOptions()).differences == ()


def test_a_profile_of_another_format_is_rebuilt(fresh: Path) -> None:
    connection = _connect(fresh)
    while profile_batch(connection, 1000)[0]:
        pass
    streamed = _compare(fresh, CompareOptions())
    connection.execute("UPDATE session_profiles SET format = ?, profile = ?",
                       (FORMAT + 1, encode(RawProfile(total=-1))))
    store = EventStore(fresh)
    production = store.session_by_name("production")
    assert production is not None
    assert load_profile(store, production.id) is None  # not read
    assert _compare(fresh, CompareOptions()) == streamed
    while profile_batch(connection, 1000)[0]:
        pass
    kept = load_profile(store, production.id)
    assert kept is not None
    assert kept[1] == profile_rows(store.iter_call_rows(production.id))
    connection.close()
    store.close()


def test_a_second_process_only_for_events_left_to_profile(
        fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[object] = []
    real_pool = engine.ProcessPoolExecutor

    def pool(*args: object, **kwargs: object) -> object:
        spawned.append(args)
        return real_pool(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(engine, "PARALLEL_MIN_EVENTS", 10)
    streamed = _compare(fresh, CompareOptions())
    assert len(spawned) == 1  # 24 events a side to profile
    connection = _connect(fresh)
    profile_batch(connection, 20)  # the baseline: 4 left
    connection.close()
    assert _compare(fresh, CompareOptions()) == streamed
    assert len(spawned) == 1  # both people passes on threads instead


def test_a_payload_nested_deeper_than_the_stack_is_counted_without_its_paths() -> None:
    # orjson parses up to 1,024 levels; Python's stack is shallower.
    text = '{"properties": ' + '{"a": ' * 1000 + "{}" + "}" * 1001
    assert orjson.loads(text)
    rows = [CallRow(1, 0.0, None, "track", "E", None, None, "m1", text),
            CallRow(2, 0.0, None, "track", "E", None, None, "m2", '{"properties": {}}')]
    profile = profile_rows(rows)
    assert profile.events[("track", "E")].count == 2
    assert profile.events[("track", "E")].paths["properties"].present == 1
