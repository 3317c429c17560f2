"""Each indicator against a hand-computed example, its warm-up and edge cases, its declared
parameters, and the fixed point it publishes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from platform_streams.processing.indicator_engine import IndicatorEngine
from platform_streams.processing.indicators import INDICATORS, IndicatorParameterError, IndicatorSpec, resolve
from platform_streams.schemas import BestBidOffer, Candle, IndicatorValue
from tests.processing.trade_samples import SECOND, T0

Bar = tuple[int, int, int, int]  # high, low, close, volume


def run(name: str, bars: list[Bar], **params: Any) -> list[tuple[float, ...] | None]:
    spec = resolve(IndicatorSpec(name, params, interval_s=1))
    indicator = spec.build()
    return [indicator.update(*bar) for bar in bars]  # type: ignore[attr-defined]


def closes(*values: int) -> list[Bar]:
    return [(v, v, v, 1) for v in values]


def test_sma() -> None:
    assert run("sma", closes(1, 2, 3, 4), period=3) == [None, None, (2.0,), (3.0,)]


def test_ema_seeds_with_the_sma_then_smooths() -> None:
    assert run("ema", closes(1, 2, 3, 4, 5), period=3) == [None, None, (2.0,), (3.0,), (4.0,)]  # alpha 0.5


def test_ema_of_period_one_is_the_close() -> None:
    assert run("ema", closes(5, 7), period=1) == [(5.0,), (7.0,)]


def test_rsi_wilder() -> None:
    got = run("rsi", closes(10, 11, 10, 12, 12), period=2)
    assert got[:3] == [None, None, (50.0,)]  # avg gain 0.5, avg loss 0.5
    assert got[3] == pytest.approx((100 - 100 / 6,))  # gain (0.5 + 2) / 2 = 1.25, loss 0.25: RS 5
    assert got[4] == pytest.approx((100 - 100 / 6,))  # both halve: RS stays 5


def test_rsi_without_losses_is_100_and_flat_is_50() -> None:
    assert run("rsi", closes(1, 2, 3), period=2)[-1] == (100.0,)
    assert run("rsi", closes(5, 5, 5), period=2)[-1] == (50.0,)


def test_atr() -> None:
    bars = [(12, 8, 10, 1), (13, 9, 12, 1), (20, 11, 19, 1)]
    # true ranges 4, max(4, 3, 1) = 4, max(9, 8, 1) = 9; seed (4 + 4) / 2 = 4; then (4 + 9) / 2
    assert run("atr", bars, period=2) == [None, (4.0,), (6.5,)]


def test_vwap_of_typical_prices_and_zero_volume() -> None:
    bars = [(12, 9, 12, 1), (15, 12, 15, 3), (20, 20, 20, 0), (1, 1, 1, 0)]
    # typical 11 and 14: (11 + 14 * 3) / 4; then (14 * 3 + 20 * 0) / 3; then no volume in the window
    assert run("vwap", bars, period=2) == [None, (13.25,), (14.0,), None]


def test_bollinger_bands() -> None:
    assert run("bollinger", closes(1, 3, 3), period=2, k=2) == [None, (2.0, 4.0, 0.0), (3.0, 3.0, 3.0)]


def test_realised_volatility() -> None:
    (first, second, third) = run("realised_volatility", closes(100, 110, 99), period=2)
    assert first is None and second is None
    assert third == pytest.approx((math.sqrt(math.log(1.1) ** 2 + math.log(0.9) ** 2),))


def test_realised_volatility_window_slides() -> None:
    values = run("realised_volatility", closes(100, 110, 99, 99, 99), period=2)
    assert values[-1] == (0.0,)  # the two last returns are flat


def quote(exchange: str, bid: int, bid_size: int, ask: int, ask_size: int, scale: int = 2, sequence: int = 1) -> BestBidOffer:
    return BestBidOffer(exchange, "BTC/USDT", T0 + sequence, T0 + sequence + 5, sequence, bid, bid_size, ask, ask_size, scale, 3)


def test_book_imbalance_published_at_its_scale() -> None:
    engine = IndicatorEngine([resolve(IndicatorSpec("book_imbalance"))])
    (value,) = engine.on_bbo(quote("binance", 100, 3, 101, 1))
    assert value == IndicatorValue("binance", "BTC/USDT", T0 + 1, T0 + 6, 1, "book_imbalance", "", 0, 50_000_000, 8)
    assert engine.on_bbo(quote("binance", 0, 0, 0, 0)) == []


def test_cross_exchange_spread_in_basis_points_across_scales() -> None:
    spec = IndicatorSpec("cross_spread", {"symbol": "BTC/USDT", "base": "binance", "other": "okx"})
    engine = IndicatorEngine([resolve(spec)])
    assert engine.on_bbo(quote("binance", 9_999, 1, 10_001, 1)) == []  # mid 100.00; okx not seen yet
    (value,) = engine.on_bbo(quote("okx", 101_000, 1, 101_000, 1, scale=3, sequence=2))  # mid 101.000
    assert (value.exchange, value.symbol, value.indicator, value.value, value.value_scale) == (
        "binance-okx",
        "BTC/USDT",
        "cross_spread",
        100_000_000,  # 100 bps at scale 6
        6,
    )
    assert value.parameters == "symbol=BTC/USDT,base=binance,other=okx"
    assert engine.on_bbo(quote("kraken", 1, 1, 2, 1)) == []
    assert engine.on_bbo(quote("okx", 0, 0, 101_000, 1, scale=3, sequence=3)) == []  # an empty side: no mid


def test_candle_values_are_stamped_with_the_candle_end_and_price_scale_plus_four() -> None:
    engine = IndicatorEngine([resolve(IndicatorSpec("ema", {"period": 1}, interval_s=60))])
    candle = Candle("test", "X/USD", T0 + 5, T0 + 9, 42, 60, T0, 100, 120, 90, 110, 7, 3, True, 2, 3)
    (value,) = engine.on_candle(candle)
    assert (value.exchange_ts_ns, value.receive_ts_ns, value.sequence) == (T0 + 60 * SECOND, T0 + 9, 42)
    assert (value.indicator, value.parameters, value.interval_s, value.value, value.value_scale) == (
        "ema",
        "period=1",
        60,
        1_100_000,
        6,
    )
    other_interval = Candle("test", "X/USD", T0 + 5, T0 + 9, 42, 1, T0, 100, 120, 90, 110, 7, 3, True, 2, 3)
    assert engine.on_candle(other_interval) == []


def test_multi_output_indicators_publish_one_value_per_output() -> None:
    engine = IndicatorEngine([resolve(IndicatorSpec("bollinger", {"period": 2, "k": 1.5}, interval_s=1))])
    for close in (10, 14):
        values = engine.on_candle(Candle("t", "X/Y", 0, 0, 0, 1, close * SECOND, close, close, close, close, 1, 1, True, 0, 0))
    assert [(v.indicator, v.parameters, v.value) for v in values] == [
        ("bollinger.middle", "period=2,k=1.5", 120_000),
        ("bollinger.upper", "period=2,k=1.5", 150_000),
        ("bollinger.lower", "period=2,k=1.5", 90_000),
    ]


def test_instrument_patterns_choose_instruments() -> None:
    engine = IndicatorEngine([resolve(IndicatorSpec("book_imbalance", instruments=["okx:*"]))])
    assert engine.on_bbo(quote("binance", 100, 3, 101, 1)) == []
    assert len(engine.on_bbo(quote("okx", 100, 3, 101, 1))) == 1
    assert (engine.wants_quotes("okx:BTC/USDT"), engine.wants_quotes("binance:BTC/USDT")) == (True, False)


def test_a_spread_wants_its_symbols_quotes_on_every_exchange() -> None:
    spec = IndicatorSpec("cross_spread", {"symbol": "BTC/USDT", "base": "binance", "other": "okx"})
    engine = IndicatorEngine([resolve(spec)])
    assert engine.wants_quotes("kraken:BTC/USDT") and not engine.wants_quotes("okx:ETH/USDT")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (IndicatorSpec("ema", {"period": 0}, 60), "indicator 'ema': period must be at least 1, got 0"),
        (IndicatorSpec("ema", {"period": "20"}, 60), "Expected `int`, got `str` - at `$.period`"),
        (IndicatorSpec("ema", {}, 60), "missing required field `period`"),
        (IndicatorSpec("sma", {"period": 5, "span": 3}, 60), "unknown field `span`"),
        (IndicatorSpec("bollinger", {"period": 1}, 60), "period must be at least 2"),
        (IndicatorSpec("bollinger", {"period": 20, "k": -1}, 60), "k must be a positive number"),
        (IndicatorSpec("ema", {"period": 3}, 0), "runs on candles: interval_s must be positive"),
        (IndicatorSpec("book_imbalance", {}, 60), "runs on every top of book: interval_s must be 0"),
        (IndicatorSpec("macd", {}, 60), "unknown indicator 'macd'; known: atr, bollinger"),
        (IndicatorSpec("cross_spread", {"symbol": "BTC/USDT", "base": "okx", "other": "okx"}), "two different exchanges"),
    ],
)
def test_bad_parameters_are_clear_errors(spec: IndicatorSpec, message: str) -> None:
    with pytest.raises(IndicatorParameterError, match=message.replace("$", r"\$").replace("(", r"\(")):
        resolve(spec)


def test_parameter_text_is_stable_and_in_declaration_order() -> None:
    assert resolve(IndicatorSpec("bollinger", {"k": 2, "period": 20}, 60)).parameters_text == "period=20,k=2"
    assert resolve(IndicatorSpec("bollinger", {"k": 2.5, "period": 20}, 60)).parameters_text == "period=20,k=2.5"


def test_the_library_has_every_indicator_the_issue_names() -> None:
    assert set(INDICATORS) == {
        "sma", "ema", "rsi", "atr", "vwap", "bollinger", "realised_volatility", "book_imbalance", "cross_spread",
    }  # fmt: skip
