"""OKX instruments replies → instruments: spot, swap, futures and options symbols and scales."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.instruments import Instrument, InstrumentKind, InstrumentRegistry
from platform_streams.exchanges.okx.instruments import InstrumentsError, parse_instruments
from tests.exchanges.okx.conftest import BOOKS, BOOKS_L2_TBT


def test_spot_instrument(okx_instruments: dict[str, InstrumentRegistry]) -> None:
    assert okx_instruments[BOOKS]["BTC-USDT"] == Instrument(
        exchange="okx",
        symbol="BTC/USDT",
        exchange_symbol="BTC-USDT",
        base="BTC",
        quote="USDT",
        price_scale=1,
        size_scale=8,
        tick_size=1,
        lot_size=1,
        min_size=1_000,  # 0.00001
    )


def test_derivative_symbols_name_underlying_settlement_and_terms(okx_instruments: dict[str, InstrumentRegistry]) -> None:
    registry = okx_instruments[BOOKS]
    swap, future, option = registry["UNI-USD-SWAP"], registry["BTC-USD-220527"], registry["ETH-USD-220624-2000-C"]
    assert (swap.symbol, swap.kind, swap.settle, swap.contract_value, swap.price_scale, swap.size_scale) == (
        "UNI/USD:UNI",
        InstrumentKind.SWAP,
        "UNI",
        10,
        3,
        0,
    )
    assert (future.symbol, future.kind, future.contract_value) == ("BTC/USD:BTC-220527", InstrumentKind.FUTURE, 100)
    assert (option.symbol, option.kind, option.tick_size, option.price_scale) == (
        "ETH/USD:ETH-220624-2000-C",
        InstrumentKind.OPTION,
        5,
        4,
    )
    linear = registry["BTC-USDT-SWAP"]
    assert (linear.symbol, linear.contract_value, linear.contract_value_scale) == ("BTC/USDT:USDT", 1, 2)  # 0.01 BTC


def test_size_scale_covers_a_min_size_finer_than_the_lot(okx_instruments: dict[str, InstrumentRegistry]) -> None:
    finer = [
        instrument
        for instrument in okx_instruments[BOOKS_L2_TBT]
        if instrument.min_size and instrument.min_size < instrument.lot_size
    ]
    assert finer, "the 2022-02-27 reply has instruments whose minSz is finer than lotSz"
    assert len(okx_instruments[BOOKS_L2_TBT]) == 1283
    assert okx_instruments[BOOKS_L2_TBT]["ELON-USDT"].price_scale == 11


def test_error_reply_raises() -> None:
    with pytest.raises(InstrumentsError, match="51001"):
        parse_instruments(b'{"code":"51001","msg":"Instrument ID does not exist","data":[]}')
