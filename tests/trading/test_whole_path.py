"""The whole trading path end to end (issue 11): simulator → ingestion → normaliser → processing →
strategy host (the trading deployment's strategies, live on the simulator's Binance, OKX and Kraken
and on paper) → risk → execution → simulator → fills → positions in PostgreSQL equal to the
simulator's account state, exactly; every order the simulator saw is recorded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trading.trading_harness import (
    LIVE_ACCOUNT,
    assert_accounts_match,
    assert_every_request_answered,
    deployments_with_fills,
    halt_all_trading,
    live_deployments,
    supervised_servers,
    trading_pipeline,
)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_strategies_on_three_exchanges_trade_and_positions_equal_the_simulators_accounts(tmp_path: Path) -> None:
    live = live_deployments()
    assert len(live) >= 3
    with supervised_servers(tmp_path / "servers") as (_stack, connections, services):
        with trading_pipeline(connections, services, tmp_path) as pipeline:
            url = pipeline.database_url
            pipeline.wait_until(
                lambda: deployments_with_fills(url, LIVE_ACCOUNT) >= live, 420, f"fills of every live deployment {sorted(live)}"
            )
            # paper fills follow the market's own trades through the bars: they may come after the live ones
            pipeline.wait_until(lambda: bool(deployments_with_fills(url, "paper")), 240, "a paper fill")
            halt_all_trading(connections.kafka_bootstrap_servers)
            pipeline.run_market(2)  # what was in flight when the switch was read lands
            assert_every_request_answered(pipeline)
            orders = assert_accounts_match(pipeline)
            assert all(orders[exchange] > 0 for exchange in orders), orders
