"""A strategy deployment as an operator declares it (under a host's ``deployments`` in a deployment
YAML): which strategy at which version, its parameters, its instruments, the account it trades and
whether on paper or live."""

from __future__ import annotations

import enum
from typing import Any

import msgspec


class TradingMode(enum.Enum):
    PAPER = "paper"
    LIVE = "live"


class StrategyDeploymentSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One deployment. ``id`` names it everywhere (intents, snapshots, metrics) and stays the same
    across versions, so version N+1 finds N's state; ``version``, when given, must be the strategy
    class's own (a spec written for 1.x refuses to run 2.0)."""

    id: str
    strategy: str
    instruments: list[str]
    account: str
    mode: TradingMode = TradingMode.PAPER
    version: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)
    timer_interval_s: float = 0.0
