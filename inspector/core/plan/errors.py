"""Errors raised while reading a tracking plan.

    PlanError                 any plan that cannot be used; names the file and where
    └── PlanFetchError        the Segment Public API refused or failed a fetch

Validation itself never raises: a bad event yields violations, not exceptions.
"""

from __future__ import annotations

__all__ = ["PlanError", "PlanFetchError"]


class PlanError(Exception):
    """A tracking plan that cannot be loaded, with the place that is wrong.

    ``line``/``column`` are set for JSON syntax errors (1-based, as editors count), ``rule`` for a
    rule whose schema is unusable (``"TRACK 'Order Completed' v2"``).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        rule: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.rule = rule
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [part for part in (where, f"rule {self.rule}" if self.rule else "") if part]
        return ": ".join([*parts, self.message])


class PlanFetchError(PlanError):
    """The Segment Public API could not be reached or answered with an error."""
