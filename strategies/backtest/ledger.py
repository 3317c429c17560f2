"""Exact accounting of a backtest's fills: position per instrument, cash and fees per quote asset,
and PnL marked to the last price; Decimal throughout, never a float."""

from __future__ import annotations

from decimal import Decimal

from platform_streams.schemas import Fill, Instrument, Side


class Ledger:
    def __init__(self, instruments: dict[str, Instrument]) -> None:
        self.instruments = instruments
        self.positions: dict[str, int] = {}
        self.cash: dict[str, Decimal] = {}
        self.fees: dict[str, Decimal] = {}

    def record(self, fill: Fill) -> None:
        key = f"{fill.exchange}:{fill.symbol}"
        instrument = self.instruments[key]
        signed = fill.size if fill.side is Side.BUY else -fill.size
        self.positions[key] = self.positions.get(key, 0) + signed
        notional = Decimal(fill.price).scaleb(-fill.price_scale) * Decimal(signed).scaleb(-fill.size_scale)
        fee = Decimal(fill.fee).scaleb(-fill.fee_scale)
        self.cash[instrument.quote] = self.cash.get(instrument.quote, Decimal(0)) - notional - fee
        self.fees[instrument.quote] = self.fees.get(instrument.quote, Decimal(0)) + fee

    def position(self, key: str) -> Decimal:
        return Decimal(self.positions.get(key, 0)).scaleb(-self.instruments[key].size_scale)

    def pnl(self, marks: dict[str, Decimal]) -> dict[str, Decimal]:
        """Cash plus positions valued at ``marks`` (prices in quote units), per quote asset."""
        pnl = dict(self.cash)
        for key, size in self.positions.items():
            instrument = self.instruments[key]
            value = marks.get(key, Decimal(0)) * Decimal(size).scaleb(-instrument.size_scale)
            pnl[instrument.quote] = pnl.get(instrument.quote, Decimal(0)) + value
        return pnl
