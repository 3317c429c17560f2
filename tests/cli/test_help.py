"""`tradeplat --help` names every command it has."""

from __future__ import annotations

import argparse

from platform_streams.cli.main import build_parser


def test_the_overview_names_every_command() -> None:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction)).choices
    overview = parser.description or ""
    missing = [name for name in commands if f"tradeplat {name}" not in overview]
    assert not missing, f"`tradeplat --help` does not describe {missing}"
    assert len(commands) >= 9
