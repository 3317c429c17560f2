"""Risk settings are validated when read, as a deployment spec is loaded: a bad limit names its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_streams.risk.daemon import RiskSettings
from platform_streams.settings import ConfigError, convert_settings
from platform_streams.supervisor.spec import load_spec


def test_the_shipped_risk_deployment_loads(repo_root: Path) -> None:
    spec = load_spec(repo_root / "deployments" / "risk.yaml")
    assert [daemon.kind for daemon in spec.daemons] == ["risk"]


def test_a_bad_limit_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError, match="deployments.mm.max_daily_loss must be positive"):
        convert_settings(RiskSettings, {"name": "risk", "limits": {"deployments": {"mm": {"max_daily_loss": "0"}}}})


def test_a_bad_allocation_is_refused_naming_the_account() -> None:
    with pytest.raises(ConfigError, match="allocations.main: fixed budgets total"):
        convert_settings(
            RiskSettings,
            {
                "name": "risk",
                "allocations": {"main": {"capital": "10", "policy": "fixed", "deployments": ["a"], "fixed": {"a": "11"}}},
            },
        )
