"""Flow files: the bundled ones by name, the user's by path, each remembered with its text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from inspector.core.flows.model import Flow, FlowError
from inspector.core.resources import resource_path
from inspector.core.rulefile import parse_rule_file, read_rule_file

__all__ = ["LoadedFlow", "bundled_flow_names", "load_flow", "parse_flow"]

_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class LoadedFlow:
    """A flow with the text it came from (a run keeps the text, so it can be re-evaluated
    after the file changes, and shows its hash)."""

    flow: Flow
    text: str
    #: Where it came from: ``bundled:<name>`` or the file's path.
    origin: str

    @property
    def sha256(self) -> str:
        """The SHA-256 of the text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _bundled_dir() -> Path:
    return resource_path("flows")


def bundled_flow_names() -> list[str]:
    """The flows shipped in ``resources/flows/``, usable by name."""
    directory = _bundled_dir()
    if not directory.is_dir():
        return []
    return sorted(path.stem for path in directory.iterdir() if path.suffix in _SUFFIXES)


def parse_flow(text: str, name: str = "<flow>", origin: str | None = None) -> LoadedFlow:
    """Parse flow text (YAML or JSON); raises :class:`FlowError` naming line and column."""
    flow = parse_rule_file(text, name, Flow, FlowError, what="a flow file")
    return LoadedFlow(flow, text, origin or name)


def load_flow(spec: str) -> LoadedFlow:
    """A bundled flow by name (``guest-checkout``), else a flow file by path."""
    if spec in bundled_flow_names():
        for suffix in _SUFFIXES:
            path = _bundled_dir() / f"{spec}{suffix}"
            if path.is_file():
                return parse_flow(read_rule_file(path, "the flow file", FlowError), str(path),
                                  f"bundled:{spec}")
    path = Path(spec).expanduser()
    if not path.exists():
        names = ", ".join(bundled_flow_names())
        raise FlowError(f"{spec}: no such flow file, and no bundled flow of that name "
                        f"(bundled: {names})")
    return parse_flow(read_rule_file(path, "the flow file", FlowError), str(path))
