"""`tradeplat kill-switch` writes the halt to ctl.risk on the real broker, and refuses a bad scope."""

from __future__ import annotations

import pytest

from platform_streams.cli.main import main
from platform_streams.risk.risk_control_topic import control_record
from platform_streams.schemas import RiskControl, decode
from platform_streams.topics import RISK_CONTROL_TOPIC
from tests.kafka_helpers import read_until


def test_kill_switch_halts_and_releases_a_scope(kafka_bootstrap, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    assert main(["kill-switch", "deployment:cli-test", "--reason", "drill"]) == 0
    assert main(["kill-switch", "deployment:cli-test", "--release"]) == 0
    assert "released: deployment:cli-test" in capsys.readouterr().out

    def mine(messages: list) -> list[RiskControl]:
        return [
            c for c in (decode(m.value()) for m in messages) if isinstance(c, RiskControl) and c.scope == "deployment:cli-test"
        ]

    controls = mine(read_until(kafka_bootstrap, RISK_CONTROL_TOPIC, lambda messages: len(mine(messages)) == 2, 30))
    assert [(c.halted, c.reason) for c in controls] == [(True, "drill"), (False, "")]
    assert all(c.key == "deployment:cli-test" for c in controls)


def test_kill_switch_refuses_an_unknown_scope(kafka_bootstrap, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    assert main(["kill-switch", "desk:fx"]) == 2
    assert "'desk:fx' is not 'global'" in capsys.readouterr().err


@pytest.mark.parametrize("scope", ["global", "account:main", "strategy:ema"])
def test_known_scopes_are_accepted(scope: str) -> None:
    assert control_record(scope, False, "", "me", 1).halted
