"""What the Audit panel shows of a session's audit, as plain JSON-able data.

The window does not hold every finding of a live session: the capture child (``inspector
serve``) audits it and answers ``GET /inspector/api/audit/overview`` with this overview, and a
window with no child builds the same overview in its own worker. Per check: its counts by
severity, how many events its findings name, a sparkline of those events over the session's
arrival time, and its first findings (the rest are fetched by check when clicked).

It also has what the People panel lists: the most recently active people, each with the count
and worst severity of the findings about them and the first few of those findings.
"""

from __future__ import annotations

import heapq
import operator
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import Check

__all__ = ["SPARK_BUCKETS", "Arrivals", "audit_overview", "event_ids_of", "mark_people",
           "variants_of"]

#: Bars in a check's sparkline (the session's arrival time, split evenly).
SPARK_BUCKETS = 24
#: Findings listed per person in the People panel's detail (the count is exact).
PERSON_FINDINGS = 10
_ORDER = operator.attrgetter("order")


class Arrivals:
    """When each audited call arrived, by store event id (ids grow with arrival).

    Two flat arrays, 16 bytes a call: a million-call session keeps 16 MB to draw its
    sparklines by time rather than by call count (a burst and a quiet hour look different).
    """

    __slots__ = ("ids", "times")

    def __init__(self) -> None:
        self.ids = array("q")
        self.times = array("d")

    def add(self, ids: Iterable[int], times: Iterable[float]) -> None:
        """Record calls in arrival order."""
        self.ids.extend(ids)
        self.times.extend(times)

    def __len__(self) -> int:
        return len(self.ids)

    def time_of(self, event_id: int) -> float | None:
        """When ``event_id`` arrived (``None``: not audited here)."""
        at = bisect_right(self.ids, event_id) - 1
        if at < 0 or self.ids[at] != event_id:
            return None
        return self.times[at]

    def sparkline(self, event_ids: Iterable[int], buckets: int = SPARK_BUCKETS) -> list[int]:
        """How many of ``event_ids`` arrived in each of ``buckets`` equal spans of the session
        (first to last call); all zeros when no call was audited."""
        counts = [0] * buckets
        if not self.ids:
            return counts
        start, end = self.times[0], max(self.times[-1], self.times[0])
        span = end - start
        for event_id in event_ids:
            moment = self.time_of(event_id)
            if moment is None:
                continue
            bucket = int((moment - start) / span * buckets) if span > 0 else 0
            counts[min(max(bucket, 0), buckets - 1)] += 1
        return counts


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {str(severity): 0 for severity in FindingSeverity}
    for finding in findings:
        counts[str(finding.severity)] += 1
    return counts


def _worst(counts: dict[str, int]) -> str | None:
    return next((str(severity) for severity in FindingSeverity if counts[str(severity)]), None)


def audit_overview(checks: Sequence[Check], findings: Iterable[Finding], *,
                   arrivals: Arrivals | None = None, per_check: int = 200,
                   buckets: int = SPARK_BUCKETS) -> dict[str, Any]:
    """The Audit panel's rows: per check (in ``checks`` order, which is the panel's) its
    counts, worst severity, events named, sparkline and first ``per_check`` findings (by
    severity, then first event); per area the sums. Without ``arrivals`` the sparklines are
    empty lists (findings kept with a session carry no arrival times)."""
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    rows: list[dict[str, Any]] = []
    areas: dict[str, dict[str, Any]] = {}
    for check in checks:
        items = by_check.get(check.id, [])
        counts = _counts(items)
        events = {event_id for finding in items for event_id in finding.event_ids}
        spark = arrivals.sparkline(events, buckets) if arrivals is not None else []
        shown = heapq.nsmallest(per_check, items, key=_ORDER)
        rows.append({
            "id": check.id, "area": check.area, "title": check.title,
            "description": " ".join((check.__doc__ or check.title).split()),
            "counts": counts, "worst": _worst(counts), "findings": len(items),
            "events": len(events), "sparkline": spark,
            "shown": [finding.to_dict() for finding in shown],
            "more": len(items) - len(shown),
        })
        area = areas.setdefault(check.area, {
            "area": check.area, "findings": 0, "events": 0,
            "sparkline": [0] * len(spark), "checks": []})
        area["findings"] += len(items)
        area["events"] += len(events)
        area["sparkline"] = [a + b for a, b in zip(area["sparkline"], spark, strict=True)]
        area["checks"].append(check.id)
    total = _counts(finding for items in by_check.values() for finding in items)
    return {"checks": rows, "areas": list(areas.values()), "counts": total}


def event_ids_of(findings: Iterable[Finding], checks: Iterable[str], *,
                 skip: int = 0) -> list[int]:
    """The events (ascending) of every finding of ``checks``; ``skip``: leave out each
    check's first ``skip`` findings in panel order (the "… N more" row stands for the rest)."""
    chosen = set(checks)
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.check in chosen:
            by_check.setdefault(finding.check, []).append(finding)
    found: set[int] = set()
    for items in by_check.values():
        if skip:
            items = sorted(items, key=_ORDER)[skip:]
        for finding in items:
            found.update(finding.event_ids)
    return sorted(found)


def mark_people(people: list[dict[str, Any]], findings: Iterable[Finding],
                per_person: int = PERSON_FINDINGS) -> list[dict[str, Any]]:
    """``people`` (``Person.to_dict()`` forms) each with ``findings_count``, ``worst`` (the
    worst severity, or ``None``) and ``findings``: the first ``per_person`` about them."""
    about: dict[str, list[Finding]] = {person["id"]: [] for person in people}
    for finding in findings:
        if finding.person is not None and finding.person in about:
            about[finding.person].append(finding)
    for person in people:
        mine = about[person["id"]]
        worst = min((finding.severity for finding in mine), key=lambda s: s.rank, default=None)
        person["findings_count"] = len(mine)
        person["worst"] = str(worst) if worst is not None else None
        person["findings"] = [finding.to_dict()
                              for finding in heapq.nsmallest(per_person, mine, key=_ORDER)]
    return people


def variants_of(finding: Finding) -> list[dict[str, Any]]:
    """A drift finding's competing variants, most used first: ``variant`` (a type, format or
    spelling), ``label`` (in words), ``count``, ``share`` (0-1), ``example`` (the value in
    its first call, as JSON text, or ``""``) and that call's ``event_id`` and
    ``message_id``; ``[]`` for findings without variants (other checks, or drift findings
    kept by an older release)."""
    rows = finding.data.get("variants")
    if not isinstance(rows, list) or not rows:
        return []
    total = sum(int(row.get("count") or 0) for row in rows) or 1
    variants = []
    for row in rows:
        value = row.get("value")
        count = int(row.get("count") or 0)
        variants.append({
            "variant": str(row.get("variant")), "label": str(row.get("label")
                                                             or row.get("variant")),
            "count": count, "share": count / total,
            "example": orjson.dumps(value).decode() if value is not None else "",
            "event_id": row.get("event_id"), "message_id": row.get("message_id"),
        })
    variants.sort(key=lambda item: -item["count"])
    return variants
