"""How the simulator's clock writes: each quantum as it is published, a catch-up run once at its end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from platform_streams.simulator import SimulatorThread
from tests.simulator.stream_client import connect, receive_until


def trade_frames(frames: list[str]) -> list[dict]:
    return [json.loads(frame)["data"] for frame in frames if '"e":"trade"' in frame]


def emitted_trades(simulator: SimulatorThread) -> tuple[int, set[int]]:
    """How many trade messages the ground truth holds, and at how many distinct emission times."""
    events = simulator.call(lambda: simulator.simulator.ground_truth.events("binance", "trade"))
    return len(events), set(events.emit_ns.tolist())


def test_a_catch_up_run_is_written_once_at_its_end_and_single_quanta_as_published(
    simulator_factory: Callable[..., SimulatorThread],
) -> None:
    simulator = simulator_factory(clock="manual", rate=20_000.0)
    symbols = simulator.call(lambda: [name.lower() for name in simulator.simulator.venues["binance"].symbols.names])
    url = simulator.urls["binance"].websocket + "/stream?streams=" + "/".join(f"{s}@trade" for s in symbols)

    async def scenario() -> None:
        async with connect(url) as ws:
            await asyncio.to_thread(simulator.step, 1)
            before, _ = emitted_trades(simulator)
            await receive_until(ws, lambda frames: len(trade_frames(frames)) >= before)

            await asyncio.to_thread(simulator.step, 10)
            after_steps, times = emitted_trades(simulator)
            stepped = after_steps - before
            received = await receive_until(ws, lambda frames: len(trade_frames(frames)) >= stepped)
            assert stepped > 10 and len(trade_frames(received)) == stepped
            assert len(times) > 5, "one quantum at a time: each written (and recorded) as it is published"

            await asyncio.to_thread(simulator.catch_up, 10)
            after_run, times_after = emitted_trades(simulator)
            caught_up = after_run - after_steps
            run_times = times_after - times
            received = await receive_until(ws, lambda frames: len(trade_frames(frames)) >= caught_up)
            assert caught_up > 10 and len(trade_frames(received)) == caught_up  # nothing lost, nothing twice
            assert len(run_times) == 1, "a catch-up run: every frame of its ten quanta written once, at its end"
            trade_times = [frame["T"] for frame in trade_frames(received)]
            assert trade_times == sorted(trade_times) and trade_times[-1] - trade_times[0] >= 50  # ten quanta of trades, in order

    asyncio.run(scenario())
