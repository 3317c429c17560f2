"""A backtest's equity curve above its drawdown, as a PNG (matplotlib, no display needed)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from platform_streams.backtesting.performance import drawdowns  # noqa: E402
from platform_streams.backtesting.replay_chain import EquitySample  # noqa: E402


def equity_png(samples: list[EquitySample], title: str, quote: str) -> bytes:
    """Equity (in ``quote``) over time and, below it, the drawdown from its running peak in %."""
    times = [datetime.fromtimestamp(s.ts_ns / 1e9, UTC) for s in samples]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}, constrained_layout=True
    )
    try:
        top.plot(times, [float(s.equity) for s in samples], color="#1f6feb", linewidth=1.2)
        top.set_title(title, fontsize=11)
        top.set_ylabel(f"equity ({quote})")
        top.grid(alpha=0.3)
        top.ticklabel_format(axis="y", useOffset=False, style="plain")
        fall = [-100 * d for d in drawdowns(samples)]
        bottom.fill_between(times, fall, 0, color="#d1242f", alpha=0.35, linewidth=0)
        bottom.plot(times, fall, color="#d1242f", linewidth=0.8)
        bottom.set_ylabel("drawdown (%)")
        bottom.grid(alpha=0.3)
        bottom.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))
        figure.autofmt_xdate()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=100)
        return out.getvalue()
    finally:
        plt.close(figure)
