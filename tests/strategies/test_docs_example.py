"""The strategy written out in docs/strategies.md works as the page says (a copied example that no
longer runs would teach the wrong thing)."""

from __future__ import annotations

import re
from pathlib import Path

from strategies.backtest import run_backtest
from tests.strategies.market import closes, instrument


def test_the_documented_strategy_runs_in_a_backtest(repo_root: Path) -> None:
    page = (repo_root / "docs" / "strategies.md").read_text()
    source = re.search(r"```python\n(.*?)```", page, re.S)
    assert source is not None
    namespace: dict = {}
    exec(compile(source.group(1), "docs/strategies.md", "exec"), namespace)
    breakout = namespace["Breakout"]
    result = run_backtest(
        breakout, {"position_size": "0.5"}, ["binance:BTC/USDT"], [instrument()], closes([100_00, 99_00, 101_00, 100_00])
    )
    assert [(t.intent.size, t.intent.reason) for t in result.intents] == [(5000, "new high")]
