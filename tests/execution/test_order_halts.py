"""The kill switch at execution: which orders a halt covers (pure), and the executor refusing a
covered request at the simulator's door and withdrawing the covered resting orders."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import msgspec
import pytest

from platform_streams.database.migrate import migrate
from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry
from platform_streams.execution.executor import AccountExecutor
from platform_streams.execution.order_halts import OrderHalts
from platform_streams.execution.order_store import OrderStore
from platform_streams.schemas import OrderEvent, OrderRequest, OrderStatus, RiskControl
from platform_streams.simulator import SimulatorThread
from tests.execution.test_ccxt_order_entry import order, requests_for
from tests.execution.test_executor import arrivals
from tests.simulator.conftest import ccxt_options, make_config


def request(name: str, *, account: str = "sim", deployment: str = "a", strategy: str = "test") -> OrderRequest:
    return msgspec.structs.replace(
        order(name, "BTC/USDT", 2, 4, 100, 1), account=account, deployment=deployment, strategy=strategy
    )


def halt(scope: str, ts_ns: int, halted: bool = True, reason: str = "drill") -> RiskControl:
    return RiskControl(scope, halted, reason, "test", ts_ns)


@pytest.mark.parametrize(
    ("scope", "covered"),
    [
        ("global", {"a", "b", "other-account", "other-strategy"}),
        ("account:sim", {"a", "b", "other-strategy"}),
        ("deployment:a", {"a"}),
        ("strategy:mm", {"other-strategy"}),
    ],
)
def test_a_halt_covers_exactly_the_orders_of_its_scope(scope: str, covered: set[str]) -> None:
    requests = {
        "a": request("1", deployment="a"),
        "b": request("2", deployment="b"),
        "other-account": request("3", account="x", deployment="c"),
        "other-strategy": request("4", deployment="d", strategy="mm"),
    }
    halts = OrderHalts()
    assert halts.apply([halt(scope, 10)]) is True
    assert {name for name, r in requests.items() if halts.halts(r)} == covered
    assert halts.refusal(requests[next(iter(covered))]) == f"kill switch {scope}: drill"


def test_a_release_lifts_a_halt_and_an_older_record_read_late_changes_nothing() -> None:
    halts = OrderHalts()
    halts.apply([halt("deployment:a", 10)])
    assert halts.apply([halt("deployment:a", 20, halted=False)]) is False
    assert halts.refusal(request("1")) is None
    assert halts.apply([halt("deployment:a", 15)]) is False  # older than the release
    assert halts.refusal(request("1")) is None
    # tombstones and records of unknown scopes are skipped, the rest still applies
    assert halts.apply([None, halt("desk:x", 30), halt("account:sim", 30)]) is True
    assert halts.refusal(request("1")) == "kill switch account:sim: drill"


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread(make_config(exchanges=["binance"])) as sim:
        yield sim


def test_a_covered_request_is_rejected_unsent_and_covered_resting_orders_are_withdrawn(
    simulator: SimulatorThread, database_url: str
) -> None:
    migrate(database_url)
    symbol, price_scale, size_scale, price, size = requests_for(simulator)

    def resting(name: str, deployment: str) -> OrderRequest:
        return msgspec.structs.replace(order(name, symbol, price_scale, size_scale, price, size), deployment=deployment)

    halts = OrderHalts()

    async def scenario() -> None:
        store = await OrderStore.connect(database_url)
        entry = CcxtOrderEntry("binance", "sim", "binance", ccxt_options(simulator.urls["binance"].rest))
        executor = AccountExecutor(entry, store, gate=halts.refusal)
        try:
            placed = await executor.submit([resting("a-1", "a"), resting("a-2", "a"), resting("b-1", "b")])
            assert {e.status for e in placed if isinstance(e, OrderEvent)} == {OrderStatus.NEW}
            halts.apply([halt("deployment:a", 1)])
            withdrawn = await executor.cancel_where(halts.halts)
            assert sorted((e.client_order_id, e.status) for e in withdrawn if isinstance(e, OrderEvent)) == [
                ("a-1", OrderStatus.CANCELED), ("a-2", OrderStatus.CANCELED)
            ]  # fmt: skip
            assert list(executor.open_orders) == ["b-1"]
            later = await executor.submit([resting("a-3", "a"), resting("b-2", "b")])
            outcome = {e.client_order_id: (e.status, e.reason) for e in later if isinstance(e, OrderEvent)}
            assert outcome == {
                "a-3": (OrderStatus.REJECTED, "kill switch deployment:a: drill"), "b-2": (OrderStatus.NEW, "")
            }  # fmt: skip
            stored = await store.get("a-3")
            assert stored is not None and stored.status is OrderStatus.REJECTED
            # replayed after a restart, the refused request stays refused: it is never sent
            assert [e.status for e in await executor.submit([resting("a-3", "a")]) if isinstance(e, OrderEvent)] == [
                OrderStatus.REJECTED
            ]
        finally:
            await entry.close()
            await store.close()

    asyncio.run(scenario())
    assert arrivals(simulator) == {"a-1": 1, "a-2": 1, "b-1": 1, "b-2": 1}
