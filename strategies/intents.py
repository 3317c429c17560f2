"""What a strategy asks for, in three words: a target position, a resting quote, or withdrawing
its quotes. Prices and sizes are integer mantissas at the instrument's scales; the host turns each
intent into a ``StrategyIntent`` event on ``strat.intent`` and risk sizes and checks it."""

from __future__ import annotations

import msgspec

from platform_streams.schemas import Side


class TargetPosition(msgspec.Struct, frozen=True, gc=False):
    """Move the position in ``instrument`` (``exchange:symbol``) to ``size`` (signed: negative is
    short), at ``limit_price`` or better, or at market when it is None. Saying the same target
    again is harmless: it is a state to reach, not an order to add."""

    instrument: str
    size: int
    limit_price: int | None = None
    reason: str = ""


class Quote(msgspec.Struct, frozen=True, gc=False):
    """Rest a limit order of ``size`` (> 0) at ``price`` on ``side`` of ``instrument``; it replaces
    this strategy's previous quote on that side, so re-quoting needs no cancel first."""

    instrument: str
    side: Side
    price: int
    size: int
    reason: str = ""


class CancelQuotes(msgspec.Struct, frozen=True, gc=False):
    """Withdraw this strategy's quotes on ``side`` of ``instrument`` (``Side.UNKNOWN``: both sides)."""

    instrument: str
    side: Side = Side.UNKNOWN
    reason: str = ""


Intent = TargetPosition | Quote | CancelQuotes

NO_INTENTS: tuple[Intent, ...] = ()
"""What a callback returns when it wants nothing (shared: no allocation per event)."""
