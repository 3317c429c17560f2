"""OKX ``/api/v5/public/instruments`` → :class:`Instrument`: scales from ``tickSz`` and ``lotSz``.

OKX sends prices and sizes as their shortest decimal text, so the scales must come from
this metadata. Derivative sizes are in contracts (``contract_value`` of ``ctValCcy``);
their symbols use the underlying (``uly``) and settlement currency:
``UNI-USD-SWAP`` → ``UNI/USD:UNI``, ``BTC-USD-220527`` → ``BTC/USD:BTC-220527``,
``ETH-USD-220624-2000-C`` → ``ETH/USD:ETH-220624-2000-C``.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.instruments import (
    Instrument,
    InstrumentKind,
    InstrumentRegistry,
    derivative_symbol,
    spot_symbol,
    step_from_text,
    text_scale_of,
    value_and_scale,
    value_at_scale,
)

EXCHANGE = "okx"

_KINDS = {
    "SPOT": InstrumentKind.SPOT,
    "MARGIN": InstrumentKind.SPOT,
    "SWAP": InstrumentKind.SWAP,
    "FUTURES": InstrumentKind.FUTURE,
    "OPTION": InstrumentKind.OPTION,
}


class InstrumentInfo(msgspec.Struct, gc=False):
    """One entry of the reply's ``data`` (only the fields the adapter reads)."""

    inst_type: str = msgspec.field(name="instType")
    inst_id: str = msgspec.field(name="instId")
    tick_size: str = msgspec.field(name="tickSz")
    lot_size: str = msgspec.field(name="lotSz")
    min_size: str = msgspec.field(default="", name="minSz")
    base_ccy: str = msgspec.field(default="", name="baseCcy")
    quote_ccy: str = msgspec.field(default="", name="quoteCcy")
    settle_ccy: str = msgspec.field(default="", name="settleCcy")
    underlying: str = msgspec.field(default="", name="uly")
    contract_value: str = msgspec.field(default="", name="ctVal")
    state: str = "live"


class InstrumentsReply(msgspec.Struct, gc=False):
    """The instruments endpoint's reply."""

    code: str
    data: list[InstrumentInfo]
    msg: str = ""


class InstrumentsError(ValueError):
    """The instruments endpoint answered with an error code."""


_reply_decoder = msgspec.json.Decoder(InstrumentsReply)


def parse_instruments(body: bytes) -> list[Instrument]:
    """The instruments of one reply (one ``instType``, and for options one underlying)."""
    reply = _reply_decoder.decode(body)
    if reply.code != "0":
        raise InstrumentsError(f"OKX instruments error {reply.code}: {reply.msg}")
    return [_instrument(info) for info in reply.data]


def registry_from_instruments(bodies: list[bytes]) -> InstrumentRegistry:
    """One registry from several replies (SPOT, SWAP, FUTURES, OPTION per underlying)."""
    return InstrumentRegistry(EXCHANGE, [instrument for body in bodies for instrument in parse_instruments(body)])


def _instrument(info: InstrumentInfo) -> Instrument:
    kind = _KINDS.get(info.inst_type)
    if kind is None:
        raise InstrumentsError(f"unknown OKX instType {info.inst_type!r} for {info.inst_id}")
    tick, price_scale = step_from_text(info.tick_size)
    lot, size_scale = step_from_text(info.lot_size)
    size_scale = max(size_scale, text_scale_of(info.min_size))  # some minSz are finer than lotSz
    base, quote, symbol = _names(info, kind)
    contract_value, contract_value_scale = value_and_scale(info.contract_value)
    return Instrument(
        exchange=EXCHANGE,
        symbol=symbol,
        exchange_symbol=info.inst_id,
        base=base,
        quote=quote,
        price_scale=price_scale,
        size_scale=size_scale,
        tick_size=tick,
        lot_size=value_at_scale(info.lot_size, size_scale),
        min_size=value_at_scale(info.min_size, size_scale),
        kind=kind,
        settle=info.settle_ccy,
        contract_value=contract_value,
        contract_value_scale=contract_value_scale,
        active=info.state == "live",
    )


def _names(info: InstrumentInfo, kind: InstrumentKind) -> tuple[str, str, str]:
    if kind is InstrumentKind.SPOT:
        return info.base_ccy, info.quote_ccy, spot_symbol(info.base_ccy, info.quote_ccy)
    base, _, quote = info.underlying.partition("-")
    terms = info.inst_id[len(info.underlying) + 1 :] if kind is not InstrumentKind.SWAP else ""
    return base, quote, derivative_symbol(base, quote, info.settle_ccy, terms)
