"""The one way inspector renders templates: a Jinja2 environment over a folder of
``resources/``, escaping by default.

Jinja2 with autoescape, never string concatenation: every value from a payload (an event
name, a property key, a note) is escaped where it is printed, so a payload holding
``<script>`` is shown, never run. Templates named ``*.html``, ``*.htm``, ``*.xml`` or with
no known extension are HTML-escaped; ``*.md`` and ``*.txt`` are not (their templates use the
``md`` filters below instead). The QA reports use ``resources/report/``; the session diff can
use its own folder through the same factory.
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from inspector.core.palette import STATUS_COLORS, STATUS_GLYPHS, STATUS_LABELS
from inspector.core.report.model import local_time

__all__ = ["markdown_code", "markdown_fence", "markdown_text", "template_environment"]

#: Characters that mean something to Markdown (CommonMark and GitHub's tables) or to the
#: HTML a Markdown renderer lets through; each is written with a backslash before it.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|#~&!])")
_BACKTICKS = re.compile(r"`+")


def markdown_text(value: object) -> str:
    """``value`` as literal Markdown text on one line (specials escaped, newlines spaces)."""
    text = " ".join(str(value).split("\n"))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def markdown_code(value: object) -> str:
    """``value`` as an inline code span (fenced by more backticks than it holds), on one
    line: code spans show ``<script>`` as text in every renderer."""
    text = " ".join(str(value).split("\n"))
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_fence(value: object) -> str:
    """A code-block fence longer than any backtick run in ``value``."""
    longest = max((len(run) for run in _BACKTICKS.findall(str(value))), default=0)
    return "`" * max(3, longest + 1)


@cache
def template_environment(folder: str = "report") -> Environment:
    """The environment over ``resources/<folder>/`` (made once per folder; Jinja2
    environments are safe to render from several threads)."""
    from inspector.core.resources import resource_path

    environment = Environment(
        loader=FileSystemLoader(resource_path(folder)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"),
                                     disabled_extensions=("md", "txt"),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(local_time=local_time, md=markdown_text, md_code=markdown_code,
                               md_fence=markdown_fence)
    environment.globals.update(
        status_colors={str(status): color for status, color in STATUS_COLORS.items()},
        status_glyphs={str(status): glyph for status, glyph in STATUS_GLYPHS.items()},
        status_labels={str(status): label for status, label in STATUS_LABELS.items()},
    )
    return environment
