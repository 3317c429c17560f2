"""Benchmark of execution's record before sending: a burst of new orders written to PostgreSQL one
round trip each (``OrderStore.record``) against all in one (``OrderStore.record_many``, what the
executor does with the orders of a batch), on a real PostgreSQL (embedded, or ``DATABASE_URL``).

Wall time per burst of ``--orders`` orders over ``--runs`` bursts; min/median/max printed and the
ratio of the medians. The last line is JSON.

    .venv/bin/python benchmarks/order_records.py --orders 50 --runs 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from platform_streams.database.migrate import migrate  # noqa: E402
from platform_streams.execution.order_store import OrderStore  # noqa: E402
from platform_streams.schemas import Hop, OrderRequest, OrderType, Side, TimeInForce  # noqa: E402


def order(client_order_id: str) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id, account="bench", exchange="binance", symbol="BTC/USDT", side=Side.BUY,
        order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=6_512_345, size=1_500, price_scale=2,
        size_scale=4, strategy="bench", intent_id=f"i-{client_order_id}", created_ts_ns=time.time_ns(),
        market_receive_ts_ns=time.time_ns(), hops=[Hop("strategy", 1, 2), Hop("risk", 3, 4)],
    )  # fmt: skip


async def measure(database_url: str, orders: int, runs: int) -> tuple[list[float], list[float]]:
    store = await OrderStore.connect(database_url)
    one_each, together = [], []
    try:
        for run in range(runs):
            burst = [order(f"one-{run}-{n}-{time.time_ns()}") for n in range(orders)]
            started = time.perf_counter()
            for request in burst:
                await store.record(request, time.time_ns())
            one_each.append((time.perf_counter() - started) * 1e3)
            burst = [order(f"many-{run}-{n}-{time.time_ns()}") for n in range(orders)]
            started = time.perf_counter()
            await store.record_many([(request, time.time_ns()) for request in burst])
            together.append((time.perf_counter() - started) * 1e3)
    finally:
        await store.close()
    return one_each, together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50, help="orders in a burst")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    database_url, postgres, state = os.environ.get("DATABASE_URL"), None, None
    if not database_url:
        from platform_streams.embedded.postgres import EmbeddedPostgres

        state = Path(tempfile.mkdtemp(prefix="bench-order-records-"))
        postgres = EmbeddedPostgres(state / "pg")
        database_url = postgres.start()
    try:
        migrate(database_url)
        one_each, together = asyncio.run(measure(database_url, args.orders, args.runs))
    finally:
        if postgres is not None:
            postgres.stop()
        if state is not None:
            shutil.rmtree(state, ignore_errors=True)
    for name, values in (("one round trip each", one_each), ("record_many", together)):
        print(f"{args.orders} orders, {name}: min {min(values):.2f}  median {statistics.median(values):.2f}  "
              f"max {max(values):.2f} ms")  # fmt: skip
    ratio = statistics.median(one_each) / statistics.median(together)
    print(f"one round trip each / record_many (medians): {ratio:.1f}x")
    print(json.dumps({
        "one_each_ms": round(statistics.median(one_each), 3), "record_many_ms": round(statistics.median(together), 3),
        "ratio": round(ratio, 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
