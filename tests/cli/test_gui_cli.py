"""`inspector` with no subcommand opens the window, with the gui options."""

from __future__ import annotations

import argparse

import pytest

import inspector.cli.gui as gui_cli
from inspector.cli import main


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    seen: list[argparse.Namespace] = []

    def fake_run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 0

    monkeypatch.setattr(gui_cli, "run", fake_run)
    # register() binds handler=run at parse time, so patch what the parser will call.
    original = gui_cli.register

    def register(subparsers: object) -> None:
        original(subparsers)
        subparsers.choices["gui"].set_defaults(handler=fake_run)  # type: ignore[attr-defined]

    monkeypatch.setattr(gui_cli, "register", register)
    return seen


@pytest.mark.parametrize(
    ("argv", "demo", "port"),
    [([], False, 8787), (["--demo"], True, 8787), (["--port", "0", "--demo"], True, 0),
     (["gui", "--port", "9000"], False, 9000)],
)
def test_no_subcommand_runs_the_window(
    calls: list[argparse.Namespace], argv: list[str], demo: bool, port: int
) -> None:
    assert main(argv) == 0
    assert len(calls) == 1
    assert calls[0].demo is demo
    assert calls[0].port == port


def test_other_subcommands_are_not_redirected(calls: list[argparse.Namespace]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert calls == []
