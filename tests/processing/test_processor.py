"""The processing stage's pure logic: instrument selection, candles followed by their indicator
values, and state forgotten when an instrument's partition moves away."""

from __future__ import annotations

from platform_streams.processing.candles import CandleFolder
from platform_streams.processing.indicators import IndicatorSpec, resolve_all
from platform_streams.processing.processor import Processor
from platform_streams.schemas import Candle, IndicatorValue
from tests.processing.trade_samples import SECOND, T0, trade


def processor(instruments: tuple[str, ...] = ("*",), lateness_ns: int = 0, publish_first: bool = True) -> Processor:
    specs = resolve_all([IndicatorSpec("sma", {"period": 1}, 1)])
    return Processor(CandleFolder([1], lateness_ns, publish_first=publish_first), specs, instruments)


def test_only_selected_instruments_make_candles() -> None:
    stage = processor(instruments=("test:BTC/*",))
    assert stage.on_trade(trade("1", T0, 100, symbol="ETH/USDT")) == []
    assert stage.on_trade(trade("2", T0 + SECOND, 100, symbol="ETH/USDT")) == []
    stage.on_trade(trade("3", T0, 100))
    assert len(stage.on_trade(trade("4", T0 + SECOND, 100))) == 2
    assert list(stage.folder.instruments) == ["test:BTC/USDT"]


def test_each_candle_is_followed_by_its_indicator_values() -> None:
    stage = processor(lateness_ns=SECOND)
    stage.on_trade(trade("1", T0, 100))
    stage.on_trade(trade("2", T0 + SECOND, 200))
    events = stage.on_trade(trade("3", T0 + 5 * SECOND, 300))  # closes two candles at once
    assert [type(e) for e in events] == [Candle, IndicatorValue, Candle, IndicatorValue]
    assert [e.close for e in events if isinstance(e, Candle)] == [100, 200]
    assert [e.value for e in events if isinstance(e, IndicatorValue)] == [1_000_000, 2_000_000]
    assert (stage.candles_closed, stage.indicator_values) == (2, 2)


def test_forgotten_instruments_start_again_without_their_partial_first_candle() -> None:
    stage = processor(publish_first=False)
    for n, ts in enumerate((T0, T0 + SECOND, T0 + 2 * SECOND)):
        stage.on_trade(trade(str(n), ts, 100))
    stage.forget({"test:BTC/USDT"})
    assert stage.on_trade(trade("9", T0 + 3 * SECOND + 1, 100)) == []
    assert stage.on_trade(trade("10", T0 + 4 * SECOND, 100)) == []  # the first candle after: maybe partial
    assert len(stage.on_trade(trade("11", T0 + 5 * SECOND, 100))) == 2
