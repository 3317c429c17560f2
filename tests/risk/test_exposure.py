"""The exposure view: positions at average cost with realised and daily PnL, open orders from
requests and life-cycle events, all idempotent."""

from __future__ import annotations

from fractions import Fraction

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_streams.risk.client_order_id import client_order_id, deployment_tag
from platform_streams.risk.exposure import ExposureView, PositionBook, utc_day
from platform_streams.schemas import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from tests.risk.factories import DAY_NS, NOW_NS, bbo, fill, order_event

TAG = deployment_tag("ema-btc")
KEY = "binance:BTC/USDT"


def test_position_book_average_cost_and_realised_pnl() -> None:
    book = PositionBook()
    book.apply(Fraction(1), Fraction(100), Fraction(0), 1)
    book.apply(Fraction(1), Fraction(110), Fraction(0), 1)
    assert (book.size, book.average_price) == (2, 105)
    book.apply(Fraction(-3), Fraction(120), Fraction(1, 2), 1)  # closes 2 at +15 each, opens 1 short at 120, fee 0.5
    assert (book.size, book.average_price, book.realised) == (-1, 120, Fraction(59, 2))
    assert book.realised_day == Fraction(59, 2)
    assert book.apply(Fraction(1), Fraction(100), Fraction(0), 2) == 20  # the next day starts its own count
    assert (book.size, book.average_price, book.realised, book.realised_day) == (0, 0, Fraction(99, 2), 20)


def test_fills_make_account_and_deployment_positions_once() -> None:
    view = ExposureView()
    first = fill("f1", Side.BUY, 2_000_000, 5_000)
    view.apply_fill(first)
    view.apply_fill(first)  # read twice
    view.apply_fill(fill("f2", Side.SELL, 2_010_000, 2_000, fee=200))
    assert view.account_position("main", KEY) == Fraction(3, 10)
    assert view.deployment_expected_position(TAG, KEY) == Fraction(3, 10)
    view.apply_bbo(bbo(2_020_000, 2_020_200))
    # realised 0.2 × 100 − 2 fee = 18; unrealised 0.3 × (20201 − 20000) = 60.3
    assert view.deployment_daily_pnl(TAG, utc_day(NOW_NS)) == 18 + Fraction(603, 10)
    assert view.deployment_daily_pnl(TAG, utc_day(NOW_NS + DAY_NS)) == Fraction(603, 10)
    view.apply_fill(fill("f3", Side.SELL, 2_000_000, 3_000, ts_ns=NOW_NS + DAY_NS))  # flat the next day, at a loss of 0
    assert view.deployment_daily_pnl(TAG, utc_day(NOW_NS + DAY_NS)) == 0
    view.apply_fill(fill("f0", Side.BUY, 1_000_000, 1_000, ts_ns=NOW_NS - DAY_NS))  # yesterday's, read late
    assert view.deployment_daily_pnl(TAG, utc_day(NOW_NS + DAY_NS)) == view.mid(KEY) / 10 - 1_000


def test_a_one_sided_book_leaves_the_mid_alone() -> None:
    view = ExposureView()
    view.apply_bbo(bbo(2_000_000, 2_000_200))
    view.apply_bbo(bbo(0, 2_000_400))
    assert view.mid(KEY) == 20_001


def request(order_id: str, side: Side, size: int) -> OrderRequest:
    return OrderRequest(
        order_id, "main", "binance", "BTC/USDT", side, OrderType.LIMIT, TimeInForce.GTC, 2_000_000, size, 2, 4, "ema", "i", 1, 1, [],
        deployment="ema-btc",
    )  # fmt: skip


def test_open_orders_from_requests_then_events_until_terminal() -> None:
    view = ExposureView()
    order_id = client_order_id("ema-btc", "i-1")
    view.apply_order_request(request(order_id, Side.BUY, 1_000))
    view.apply_order_request(request(order_id, Side.BUY, 1_000))  # risk's own request read back
    assert view.open_order_count("main") == 1 and view.deployment_open_order_count(TAG) == 1
    assert view.open_quantity("main", KEY, Side.BUY) == Fraction(1, 10)
    assert view.deployment_expected_position(TAG, KEY) == Fraction(1, 10)
    view.apply_order_event(order_event(order_id, OrderStatus.PARTIALLY_FILLED, Side.BUY, 1_000, 400))
    assert view.open_quantity("main", KEY, Side.BUY) == Fraction(6, 100)
    assert view.open_orders[order_id].request is not None  # still the request a replay gets
    view.apply_order_event(order_event(order_id, OrderStatus.FILLED, Side.BUY, 1_000, 1_000, sequence=2))
    assert view.open_order_count("main") == 0 and view.open_quantity("main", KEY, Side.BUY) == 0
    view.apply_order_request(request(order_id, Side.BUY, 1_000))  # a late read-back does not reopen it
    view.apply_order_event(order_event(order_id, OrderStatus.NEW, Side.BUY, 1_000, 0))
    assert view.open_order_count("main") == 0


def test_an_order_placed_elsewhere_counts_from_its_events() -> None:
    view = ExposureView()
    view.apply_order_event(order_event("manual-1", OrderStatus.NEW, Side.SELL, 3_000, 0))
    assert view.open_order_count("main") == 1 and view.open_quantity("main", KEY, Side.SELL) == Fraction(3, 10)


def test_the_two_fills_of_a_self_trade_both_count() -> None:
    view = ExposureView()
    view.apply_fill(fill("t9", Side.BUY, 2_000_000, 5_000))
    view.apply_fill(fill("t9", Side.SELL, 2_000_000, 5_000))  # the same trade, the account's other order
    view.apply_fill(fill("t9", Side.SELL, 2_000_000, 5_000))  # read twice
    assert view.account_position("main", KEY) == 0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["fill", "mid", "one-sided"]),
            st.sampled_from(["BTC/USDT", "ETH/USDT"]),
            st.sampled_from(["ema-btc", "mm"]),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(1_990_000, 2_010_000),
            st.integers(1, 4_000),
            st.sampled_from([2, 2, 2, 35]),  # a quote at 35 decimals: size × mid no longer an integer over 2 × 10^36
        ),
        max_size=60,
    )
)
def test_the_daily_pnl_kept_up_to_date_equals_its_recomputation(steps: list) -> None:
    """Fills and mids in any order across instruments and deployments: the daily PnL kept up to
    date is, at every step, today's realised PnL plus Σ size × (mid − average) over the books with
    a mid, exactly (in integers where the scales allow, in fractions where not)."""
    view, today = ExposureView(), utc_day(NOW_NS)
    for n, (kind, symbol, deployment, side, price, size, quote_scale) in enumerate(steps):
        if kind == "fill":
            made = fill(f"f{n}", side, price, size, deployment=deployment, fee=n % 3)
            view.apply_fill(msgspec.structs.replace(made, symbol=symbol))
        else:
            quote = bbo(price, price + size, n) if kind == "mid" else bbo(0, price, n)
            view.apply_bbo(msgspec.structs.replace(quote, symbol=symbol, price_scale=quote_scale))
        for tag in {deployment_tag(d) for d in ("ema-btc", "mm")}:
            books = view.deployment_positions.get(tag, {})
            day, realised = view._realised_day.get(tag, (today, Fraction(0)))
            expected = realised if day == today else Fraction(0)
            for instrument, book in books.items():
                mid = view.mid(instrument)
                if mid is not None and book.size:
                    expected += book.size * (mid - book.average_price)
            assert view.deployment_daily_pnl(tag, today) == expected
