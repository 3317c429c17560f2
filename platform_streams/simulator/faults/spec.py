"""What a fault is: its kind, what it targets and how long it lasts, validated when it is injected.

Frame faults (``gap``, ``duplicate``, ``reorder``, ``malformed``) act on market data
frames, optionally only of one channel and symbol: without ``duration_s`` they are
one-shot and hit the next ``count`` matching frames; with it they hit each matching
frame (or a seeded ``probability`` share of them) until it ends. Connection faults
act on whole connections: ``drop`` (now), ``stall`` (nothing is sent for
``duration_s``, then everything held goes out), ``latency`` (every frame is delayed
by ``latency_ms``, until it ends or is cleared). ``maintenance`` takes the whole
exchange down: REST answers 503 with the exchange's maintenance body, WebSocket
upgrades are refused and open connections are closed. ``rate_limit`` is a 429 storm on order
entry: the exchange's new-order requests get its rate-limit reply (Binance HTTP 429 -1015, OKX
HTTP 429 50011, Kraken ``EOrder:Rate limit exceeded``) for ``duration_s``, or for the next ``count``
of them without a duration; the orders refused are not placed.
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec


class FaultError(ValueError):
    """A fault that cannot be injected as asked (bad combination of fields, unknown exchange...)."""


class FaultKind(enum.StrEnum):
    DROP = "drop"
    STALL = "stall"
    GAP = "gap"
    DUPLICATE = "duplicate"
    REORDER = "reorder"
    MALFORMED = "malformed"
    LATENCY = "latency"
    MAINTENANCE = "maintenance"
    RATE_LIMIT = "rate_limit"


FRAME_FAULTS = frozenset({FaultKind.GAP, FaultKind.DUPLICATE, FaultKind.REORDER, FaultKind.MALFORMED})
MalformedVariant = Literal["invalid_json", "truncated", "wrong_types"]


class FaultSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One fault to inject (the JSON body of ``POST /_control/faults``)."""

    kind: FaultKind
    exchange: str | None = None  # None: every exchange of the run
    connection: str | None = None  # one connection id (GET /_control/connections); None: all of the exchange's
    channel: str | None = None  # frame faults: only this channel, as the exchange names it ("depth@100ms", "books", "book")
    symbol: str | None = None  # frame faults: only this symbol, as the exchange names it ("BTCUSDT", "BTC-USDT", "XBT/USD")
    count: Annotated[int, msgspec.Meta(ge=1)] = 1  # one-shot frame faults: how many frames
    duration_s: Annotated[float, msgspec.Meta(gt=0)] | None = None
    probability: Annotated[float, msgspec.Meta(gt=0, le=1)] = 1.0  # frame faults with a duration: share of frames hit
    latency_ms: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    malformed: MalformedVariant = "invalid_json"
    close_code: Annotated[int, msgspec.Meta(ge=1000, le=4999)] | None = None  # drop: None aborts the TCP connection

    def validate(self) -> FaultSpec:
        """Reject combinations that mean nothing; returns self."""
        frame_fault = self.kind in FRAME_FAULTS
        if not frame_fault and (self.channel is not None or self.symbol is not None):
            raise FaultError(f"channel and symbol select frames; a {self.kind} fault acts on whole connections")
        if self.kind is FaultKind.STALL and self.duration_s is None:
            raise FaultError("a stall needs duration_s (how long nothing is sent)")
        if self.kind is FaultKind.DROP and self.duration_s is not None:
            raise FaultError("a drop happens once; use maintenance to keep an exchange down for a while")
        if self.kind is FaultKind.LATENCY and self.latency_ms <= 0:
            raise FaultError("a latency fault needs latency_ms > 0")
        if self.kind in (FaultKind.MAINTENANCE, FaultKind.RATE_LIMIT) and self.connection is not None:
            raise FaultError(f"{self.kind} acts on a whole exchange's REST API, not one connection")
        if self.close_code is not None and self.kind is not FaultKind.DROP:
            raise FaultError("close_code only applies to a drop")
        return self

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in msgspec.to_builtins(self).items() if v is not None}


def checked_spec(spec: FaultSpec | dict[str, object]) -> FaultSpec:
    """A validated spec from a mapping or from a spec built in Python (whose constructor checks no types or bounds)."""
    fields = msgspec.to_builtins(spec) if isinstance(spec, FaultSpec) else spec
    try:
        return msgspec.convert(fields, FaultSpec).validate()
    except msgspec.ValidationError as exc:
        raise FaultError(f"invalid fault: {exc}") from None


def decode_spec(body: bytes) -> FaultSpec:
    """A validated spec from JSON; raises FaultError naming what is wrong."""
    try:
        return msgspec.json.decode(body, type=FaultSpec).validate()
    except msgspec.ValidationError as exc:
        raise FaultError(f"invalid fault: {exc}") from None
    except msgspec.DecodeError as exc:
        raise FaultError(f"a fault is a JSON object: {exc}") from None
