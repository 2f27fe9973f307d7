"""Timestamps as Segment writes them: UTC, milliseconds, ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from inspector.core.timeutil import format_iso, parse_timestamp


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 1_000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 500_500, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 30, 0, 123_456, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 1, 0, 30, 0, 123_456, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ],
)
def test_format_iso_truncates_to_milliseconds_in_utc(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    expected = utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    assert format_iso(moment) == expected
    assert parse_timestamp(format_iso(moment)) == utc.replace(
        microsecond=utc.microsecond // 1000 * 1000
    )


def test_format_iso_of_a_local_offset() -> None:
    assert format_iso(datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-02-28T22:30:00.000Z"
    )
