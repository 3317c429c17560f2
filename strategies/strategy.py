"""The strategy base class: declared parameters and a version, one callback per kind of event,
each returning intents, and versioned state that can be snapshot to bytes and restored (so a
restart, or version N+1 taking over from N, carries the state over)."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import msgspec

from platform_streams.schemas import BestBidOffer, Candle, Fill, IndicatorValue, Trade
from strategies.context import StrategyContext
from strategies.intents import NO_INTENTS, Intent
from strategies.parameters import Parameter, ParameterValues, validate_parameters


class StateVersionError(ValueError):
    """A snapshot this strategy cannot restore (another strategy's, or a state version it cannot read)."""


class _Snapshot(msgspec.Struct, array_like=True, frozen=True):
    """The envelope of a snapshot: whose state, in which state version, and the state's own bytes."""

    strategy: str
    state_version: int
    state: msgspec.Raw


class Strategy(abc.ABC):
    """Subclass, declare ``name``, ``version``, ``parameters`` and ``state_type``, and override the
    callbacks you need. A callback returns a sequence of intents (``NO_INTENTS`` for none).

    ``state_version`` numbers the layout of ``state_type``: bump it when the layout changes and
    teach :meth:`upgrade_state` to read the older one, so N+1 can restore N's snapshot."""

    name: ClassVar[str]
    version: ClassVar[str]
    parameters: ClassVar[Mapping[str, Parameter]] = {}
    state_type: ClassVar[type[msgspec.Struct]]
    state_version: ClassVar[int] = 1

    def __init__(self, context: StrategyContext) -> None:
        self.context = context
        self.params = context.parameters

    # -- parameters -----------------------------------------------------------------------
    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> ParameterValues:
        """The deployment's parameter values checked against the declaration (``ParameterError``
        names the bad one), then :meth:`check_parameters` for rules across parameters."""
        values = validate_parameters(cls.name, cls.parameters, given)
        cls.check_parameters(values)
        return values

    @classmethod
    def check_parameters(cls, values: ParameterValues) -> None:
        """Raise ``ParameterError`` for a combination that makes no sense (fast period ≥ slow)."""
        return None  # by default every combination of valid parameters is accepted

    @classmethod
    def check_instruments(cls, instruments: Sequence[str]) -> None:
        """Raise ``ValueError`` if the strategy cannot trade this set of instruments (an arbitrage needs two)."""
        if not instruments:
            raise ValueError(f"{cls.name}: a deployment needs at least one instrument")

    # -- callbacks (all optional) ----------------------------------------------------------------
    def on_trade(self, trade: Trade) -> Sequence[Intent]:
        return NO_INTENTS

    def on_bar(self, candle: Candle) -> Sequence[Intent]:
        return NO_INTENTS

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        return NO_INTENTS

    def on_indicator(self, value: IndicatorValue) -> Sequence[Intent]:
        return NO_INTENTS

    def on_fill(self, fill: Fill) -> Sequence[Intent]:
        """Called after the context's position already includes ``fill``."""
        return NO_INTENTS

    def on_timer(self, now_ns: int) -> Sequence[Intent]:
        """Called every ``timer_interval_s`` of event time (the deployment's setting; 0: never)."""
        return NO_INTENTS

    # -- state ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def state(self) -> msgspec.Struct:
        """The strategy's state as a ``state_type`` instance (indicators, last signals, quotes).
        Every strategy defines it (a class without it cannot be built: its deployment is refused)."""

    @abc.abstractmethod
    def load_state(self, state: Any) -> None:
        """Take over ``state`` (a ``state_type`` instance) as the strategy's own."""

    def upgrade_state(self, raw: bytes, from_version: int) -> msgspec.Struct:
        """Read the state of an older ``state_version``; by default no older version is readable."""
        raise StateVersionError(f"{self.name}: cannot read state version {from_version} (this is version {self.state_version})")

    def snapshot(self) -> bytes:
        """The state as bytes, with the strategy's name and state version."""
        state = msgspec.Raw(msgspec.msgpack.encode(self.state()))
        return msgspec.msgpack.encode(_Snapshot(self.name, self.state_version, state))

    def restore(self, data: bytes) -> None:
        """Load a :meth:`snapshot` of this strategy (of this or an older state version)."""
        try:
            envelope = msgspec.msgpack.decode(data, type=_Snapshot)
        except msgspec.DecodeError as error:
            raise StateVersionError(f"{self.name}: not a strategy snapshot: {error}") from None
        if envelope.strategy != self.name:
            raise StateVersionError(f"{self.name}: the snapshot is of strategy {envelope.strategy!r}")
        raw = bytes(envelope.state)
        if envelope.state_version == self.state_version:
            state = msgspec.msgpack.decode(raw, type=self.state_type)
        elif envelope.state_version < self.state_version:
            state = self.upgrade_state(raw, envelope.state_version)
        else:
            raise StateVersionError(
                f"{self.name}: the snapshot's state version {envelope.state_version} is newer than this one's {self.state_version}"
            )
        self.load_state(state)
