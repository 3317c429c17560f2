"""The risk decision end to end over one exposure view: sized requests through, each limit
refusing with its rule, kill switches, budgets, replays and the account/deployment scopes."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest

from platform_streams.risk.client_order_id import client_order_id, epoch_of
from platform_streams.risk.decision import RiskEngine, UnknownInstrument
from platform_streams.risk.fencing import EpochNotYetKnown
from platform_streams.risk.limits import Limits, RiskLimits, RiskLimitsSettings
from platform_streams.schemas import Hop, IntentKind, OrderRequest, OrderStatus, RiskRejection, Side, StrategyDeploymentControl
from tests.risk.factories import BTC, NOW_NS, bbo, fill, halt, intent, order_event

GENEROUS = Limits(
    max_position="10",
    max_position_notional="1000000",
    max_order_notional="100000",
    max_open_orders=10,
    price_band_bps=100,
    max_daily_loss="500",
)


def engine(
    limits: Limits = GENEROUS, budgets: dict[tuple[str, str], Fraction] | None = None, **scopes: dict[str, Limits]
) -> RiskEngine:
    risk = RiskEngine(RiskLimits(RiskLimitsSettings(default=limits, **scopes)), budgets)
    risk.add_instrument(BTC)
    risk.exposure.apply_bbo(bbo(1_999_900, 2_000_100))  # mid 20000.00
    return risk


def decide(risk: RiskEngine, *args: object, **kwargs: object) -> OrderRequest | RiskRejection | None:
    return risk.decide(intent(*args, **kwargs), NOW_NS - 10, NOW_NS)  # type: ignore[arg-type]


def rule(decision: object) -> str:
    assert isinstance(decision, RiskRejection), decision
    return decision.rule


def test_an_intent_within_limits_becomes_a_sized_request_keyed_by_account() -> None:
    risk = engine()
    request = decide(risk, "i-1", 1_000)
    assert isinstance(request, OrderRequest)
    assert request.client_order_id == client_order_id("ema-btc", "i-1")
    assert (request.key, request.side, request.price, request.size, request.price_scale, request.size_scale) == (
        "main",
        Side.BUY,
        2_000_000,
        1_000,
        2,
        4,
    )
    assert request.deployment == "ema-btc" and request.strategy == "ema"
    assert request.hops[-1] == Hop("risk", NOW_NS - 10, NOW_NS)
    assert risk.exposure.open_order_count("main") == 1


def test_a_replayed_intent_gets_the_same_request_and_a_target_counts_open_orders() -> None:
    risk = engine()
    first = decide(risk, "i-1", 1_000)
    assert decide(risk, "i-1", 1_000) == first
    assert decide(risk, "i-2", 1_000) is None  # the open order already takes the position to 0.1
    assert isinstance(decide(risk, "i-3", 1_500), OrderRequest)
    order_id = client_order_id("ema-btc", "i-1")
    risk.exposure.apply_order_event(order_event(order_id, OrderStatus.CANCELED, Side.BUY, 1_000, 0))
    assert decide(risk, "i-1", 1_000) is None  # finished: never placed again


def test_order_notional_limit() -> None:
    risk = engine(Limits(max_order_notional="2000", price_band_bps=100))
    assert isinstance(decide(risk, "i-1", 1_000), OrderRequest)  # 0.1 × 20000 = 2000 exactly
    assert rule(decide(risk, "i-2", 2_010)) == "max_order_notional"  # 0.001 more


def test_open_orders_per_account_and_per_deployment() -> None:
    risk = engine(Limits(max_open_orders=2, price_band_bps=100), deployments={"mm": Limits(max_open_orders=1)})
    quote = {"kind": IntentKind.QUOTE, "quote_size": 100, "side": Side.BUY}
    assert isinstance(decide(risk, "q-1", 0, deployment="mm", **quote), OrderRequest)
    assert rule(decide(risk, "q-2", 0, deployment="mm", **quote)) == "max_open_orders"
    assert isinstance(decide(risk, "i-1", 100), OrderRequest)
    assert rule(decide(risk, "i-2", 200)) == "max_open_orders"  # the account's two


def test_price_band_around_the_mid() -> None:
    risk = engine(Limits(price_band_bps=100))  # 1 % of 20000 = 200.00
    assert isinstance(decide(risk, "i-1", 100, 2_020_000), OrderRequest)
    assert rule(decide(risk, "i-2", -100, 1_979_999)) == "price_band"


def test_no_mid_no_order() -> None:
    risk = RiskEngine(RiskLimits(RiskLimitsSettings(default=GENEROUS)))
    risk.add_instrument(BTC)
    assert rule(risk.decide(intent("i-1", 100), 0, NOW_NS)) == "no_market_price"


def test_max_position_counts_fills_and_open_orders_of_every_deployment() -> None:
    risk = engine(Limits(price_band_bps=100), instruments={"binance:BTC/USDT": Limits(max_position="0.5")})
    risk.exposure.apply_fill(fill("f1", Side.BUY, 2_000_000, 3_000, deployment="arb"))
    assert isinstance(decide(risk, "i-1", 1_000), OrderRequest)  # 0.3 + 0.1
    assert isinstance(decide(risk, "i-2", 1_000, deployment="other"), OrderRequest)  # 0.5 exactly
    assert rule(decide(risk, "i-3", 10, deployment="third")) == "max_position"
    assert isinstance(decide(risk, "i-4", -1_000, deployment="third"), OrderRequest)  # selling is fine


def test_daily_loss_allows_only_reducing_orders() -> None:
    risk = engine(Limits(price_band_bps=100, max_daily_loss="100"))
    risk.exposure.apply_fill(fill("f1", Side.BUY, 2_100_000, 1_000))  # bought 0.1 at 21000, mid 20000: −100 exactly
    assert isinstance(decide(risk, "i-1", 1_010), OrderRequest)
    risk.exposure.apply_bbo(bbo(1_999_800, 2_000_000, sequence=2))  # mid 19999: −100.10
    assert rule(decide(risk, "i-2", 1_100)) == "max_daily_loss"
    assert isinstance(decide(risk, "i-3", 0), OrderRequest)  # flattening passes


def test_kill_switch_scopes() -> None:
    risk = engine()
    risk.kill_switches.apply(halt("deployment:ema-btc"))
    assert rule(decide(risk, "i-1", 100)) == "kill_switch"
    assert isinstance(decide(risk, "i-2", 100, deployment="other"), OrderRequest)
    risk.kill_switches.apply(halt("deployment:ema-btc", halted=False, ts_ns=NOW_NS + 1))
    assert isinstance(decide(risk, "i-3", 100), OrderRequest)
    risk.kill_switches.apply(halt("global"))
    assert rule(decide(risk, "i-4", 100, deployment="third")) == "kill_switch"
    risk.kill_switches.apply(halt("global", halted=False, ts_ns=NOW_NS - 5))  # older: ignored
    assert rule(decide(risk, "i-5", 100, deployment="third")) == "kill_switch"


def test_budget_clips_and_refuses() -> None:
    risk = engine(budgets={("main", "ema-btc"): Fraction(3_000)})
    request = decide(risk, "i-1", 5_000)  # wants 0.5 BTC, the budget holds 0.15
    assert isinstance(request, OrderRequest) and request.size == 1_500
    assert rule(decide(risk, "i-2", 5_000)) == "budget"


def test_unknown_instrument_is_an_error_and_an_inactive_one_a_rejection() -> None:
    risk = RiskEngine(RiskLimits(RiskLimitsSettings()))
    with pytest.raises(UnknownInstrument):
        risk.decide(intent("i-1", 100), 0, NOW_NS)
    risk.add_instrument(msgspec.structs.replace(BTC, active=False))
    assert rule(risk.decide(intent("i-1", 100), 0, NOW_NS)) == "instrument_inactive"


def test_an_intent_without_account_is_refused_and_a_cancel_is_not_risks() -> None:
    risk = engine()
    assert rule(decide(risk, "i-1", 100, account="")) == "bad_intent"
    assert decide(risk, "i-2", 0, kind=IntentKind.CANCEL) is None


def test_a_quote_replaces_the_deployments_previous_quote_and_a_cancel_withdraws_its_side() -> None:
    risk = engine()
    bid_1 = intent("q-1", 0, 1_999_000, kind=IntentKind.QUOTE, side=Side.BUY, quote_size=100)
    ask_1 = intent("q-2", 0, 2_001_000, kind=IntentKind.QUOTE, side=Side.SELL, quote_size=100)
    other = intent("q-3", 0, 1_998_000, kind=IntentKind.QUOTE, side=Side.BUY, quote_size=100, deployment="maker-2")
    for quote in (bid_1, ask_1, other):
        assert risk.withdrawals(quote, NOW_NS) == []  # nothing of that deployment's side rests yet
        assert isinstance(risk.decide(quote, NOW_NS - 10, NOW_NS), OrderRequest)
    assert risk.exposure.open_order_count("main") == 3

    bid_2 = intent("q-4", 0, 1_999_500, kind=IntentKind.QUOTE, side=Side.BUY, quote_size=100)
    (cancel,) = risk.withdrawals(bid_2, NOW_NS)  # the deployment's previous bid, not the ask, not maker-2's bid
    assert (cancel.client_order_id, cancel.account, cancel.key) == (client_order_id("ema-btc", "q-1"), "main", "main")
    assert cancel.reason == "requote: q-4"
    assert isinstance(risk.decide(bid_2, NOW_NS - 10, NOW_NS), OrderRequest)
    assert risk.exposure.open_order_count("main") == 3  # the withdrawn bid no longer counts

    both = risk.withdrawals(intent("c-1", 0, None, kind=IntentKind.CANCEL, side=Side.UNKNOWN), NOW_NS)
    assert {c.client_order_id for c in both} == {client_order_id("ema-btc", "q-2"), client_order_id("ema-btc", "q-4")}
    assert risk.exposure.open_order_count("main") == 1  # maker-2's bid rests on
    assert risk.withdrawals(intent("t-1", 1_000), NOW_NS) == []  # a target withdraws nothing


def deployment_control(epoch: int, running: bool = True, deployment: str = "ema-btc") -> StrategyDeploymentControl:
    return StrategyDeploymentControl(deployment, epoch, "host-b", running, b"{}", "test", epoch)


def test_only_the_current_epoch_of_a_deployment_trades_and_its_order_id_names_the_epoch() -> None:
    risk = engine()
    assert isinstance(decide(risk, "i-1", 1_000), OrderRequest)  # no ctl.strategy record: epoch 0 is not fenced
    risk.epochs.apply(deployment_control(2))
    fenced = decide(risk, "i-2", 2_000)
    assert rule(fenced) == "fenced"
    assert "epoch 0 of deployment ema-btc is fenced: epoch 2 runs on host host-b" in fenced.detail  # type: ignore[union-attr]
    with pytest.raises(EpochNotYetKnown, match="epoch 3"):
        decide(risk, "i-3", 2_000, epoch=3)  # its control record is still on the way: the intent waits
    request = decide(risk, "i-2", 2_000, epoch=2)
    assert isinstance(request, OrderRequest)
    assert request.client_order_id == client_order_id("ema-btc", "i-2", 2) and epoch_of(request.client_order_id) == 2
    risk.epochs.apply(deployment_control(1))  # an older record read late changes nothing
    assert isinstance(decide(risk, "i-4", 3_000, epoch=2), OrderRequest)
    risk.epochs.apply(deployment_control(3, running=False))
    assert "ema-btc is stopped" in decide(risk, "i-5", 4_000, epoch=3).detail  # type: ignore[union-attr]
    assert isinstance(decide(risk, "i-6", 1_000, deployment="other"), OrderRequest)  # other deployments go on


def test_a_fenced_version_withdraws_nothing_and_its_successor_replaces_its_quotes() -> None:
    risk = engine()
    quote = {"kind": IntentKind.QUOTE, "side": Side.BUY, "quote_size": 1_000}
    first = decide(risk, "q-1", 0, 1_990_000, **quote)
    assert isinstance(first, OrderRequest)
    risk.epochs.apply(deployment_control(1))
    stale_cancel = intent("c-1", 0, None, kind=IntentKind.CANCEL)
    assert risk.withdrawals(stale_cancel, NOW_NS) == []  # epoch 0's cancel could hit epoch 1's quotes
    assert rule(risk.decide(stale_cancel, NOW_NS, NOW_NS)) == "fenced"
    successor = intent("q-2", 0, 1_991_000, epoch=1, **quote)  # type: ignore[arg-type]
    assert [c.client_order_id for c in risk.withdrawals(successor, NOW_NS)] == [first.client_order_id]  # adopted, replaced
    assert isinstance(risk.decide(successor, NOW_NS, NOW_NS), OrderRequest)
