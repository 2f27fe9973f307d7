"""Hand-written rule files (audit configuration, flows): YAML or JSON read into a pydantic
model, every mistake named by file, line and column.

JSON is a subset of YAML, so one parser reads both; the composed node tree gives the position
of the value (or, for an unknown key, of the key itself) that a validation error points at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["MAX_RULE_FILE_BYTES", "LocatedValueError", "parse_rule_file", "read_rule_file",
           "rule_file_schema", "yaml_position"]

#: Upper bound on a rule file: it is hand-written, a bigger one is a mistake.
MAX_RULE_FILE_BYTES = 2 * 1024 * 1024

Model = TypeVar("Model", bound=BaseModel)


class LocatedValueError(ValueError):
    """A model-wide validator's error about one place in the file (``("steps", 3,
    "same_as")``): reported at that place's line and column, not the file's top."""

    def __init__(self, location: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.location = location


def read_rule_file(path: Path, what: str, error: type[Exception]) -> str:
    """The text of a regular file no bigger than :data:`MAX_RULE_FILE_BYTES`; raises
    ``error`` naming the file (``what``: how the message calls it, "the audit file")."""
    try:
        if not path.is_file():
            raise error(f"{path}: not a regular file")
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise error(f"{path}: larger than {MAX_RULE_FILE_BYTES // 1024} KB")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot read {what} ({problem})") from problem


def parse_rule_file(text: str, name: str, model: type[Model], error: type[Exception], *,
                    what: str, empty: Any = None) -> Model:
    """Validate YAML or JSON ``text`` as ``model``; raises ``error`` with one
    ``name:line:column: path: message`` line per problem. ``empty``: the data an empty file
    stands for (``None``: an empty file is an error like any non-mapping)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise error(f"{where}: {problem.problem or problem}") from problem
    except yaml.YAMLError as problem:
        raise error(f"{name}: {problem}") from problem
    if data is None and empty is not None:
        data = empty
    if not isinstance(data, dict):
        raise error(f"{name}:1:1: {what} must be a mapping (an object)")
    try:
        return model.model_validate(data)
    except ValidationError as problem:
        problems = []
        for item in problem.errors():
            location = tuple(item["loc"])
            message = item["msg"]
            cause = item.get("ctx", {}).get("error")
            if isinstance(cause, LocatedValueError):
                location, message = (*location, *cause.location), str(cause)
            line, column = yaml_position(node, location,
                                         at_key=item["type"] == "extra_forbidden")
            path = ".".join(str(part) for part in location) or "(top level)"
            problems.append(f"{name}:{line}:{column}: {path}: {message}")
        raise error("\n".join(problems)) from problem


def yaml_position(node: yaml.Node | None, location: tuple[Any, ...], *,
                  at_key: bool = False) -> tuple[int, int]:
    """Line and column (1-based) of the value at ``location``, or of its nearest parent;
    ``at_key``: of the last key itself (an unknown key is the mistake, not its value)."""
    best = node
    current = node
    for depth, part in enumerate(location, start=1):
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = key if at_key and depth == len(location) else value
                    break
        elif (isinstance(current, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(current.value)):
            child = current.value[part]
        if child is None:
            break
        best = current = child
    if best is None:
        return 1, 1
    return best.start_mark.line + 1, best.start_mark.column + 1


def rule_file_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """The JSON Schema of a rule file (``--print-schema``)."""
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return schema
