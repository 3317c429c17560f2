"""`tradeplat --help` names every command it has."""

from __future__ import annotations

import argparse

import pytest

from platform_streams.cli.main import build_parser


def test_the_overview_names_every_command() -> None:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction)).choices
    overview = parser.description or ""
    missing = [name for name in commands if f"tradeplat {name}" not in overview]
    assert not missing, f"`tradeplat --help` does not describe {missing}"
    assert len(commands) >= 9


def test_the_servers_restart_budget_is_a_whole_number(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    parser = build_parser()
    assert parser.parse_args(["up", "--server-restarts", "0"]).server_restarts == 0
    monkeypatch.setenv("TRADEPLAT_SERVER_RESTARTS", "3")
    assert build_parser().parse_args(["up"]).server_restarts == 3
    for bad in ("-1", "two"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(["up", "--server-restarts", bad])
        assert exit_.value.code == 2
        assert f"must be a whole number of restarts, 0 or more, not '{bad}'" in capsys.readouterr().err
