"""The snapshot budget service over real unix sockets: one budget shared by processes, priorities
across clients, a service that starts late or restarts under waiting requests, malformed lines,
and what ingestion does when the service is down or refuses."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from platform_streams.exchanges.binance.feed import BinanceFeed
from platform_streams.ingestion.connection import FeedConnection
from platform_streams.ingestion.rest_snapshots import RestSnapshotClient
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_service import (
    SnapshotBudgetError,
    SnapshotBudgetServer,
    SnapshotBudgetUnavailable,
    budget_socket_path,
)
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from platform_streams.settings import ConfigError
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from tests.waiting import wait_until_async

CLIENT_PROCESS = """
import asyncio, json, sys, time
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient

async def main(path: str, count: int, weight: int) -> None:
    client = SnapshotBudgetClient(path)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # every process asks at once: they compete for the budget
    granted = []

    async def one() -> None:
        await client.acquire("binance", weight, 1)
        granted.append(time.monotonic())  # CLOCK_MONOTONIC: one clock for every process of the host

    await asyncio.gather(*(one() for _ in range(count)))
    await client.close()
    print(json.dumps(granted), flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""

SERVER_PROCESS = """
import asyncio, json, sys
from platform_streams.ingestion.snapshot_budget_service import SnapshotBudgetServer

async def main(path: str, weight: int, window_s: float) -> None:
    server = SnapshotBudgetServer(path, {"binance": (weight, window_s)})
    await server.start()
    print("ready", flush=True)
    while await asyncio.to_thread(sys.stdin.readline):  # a line in: how many requests are waiting, out
        print(server.stats()["binance"].waiting, flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
"""


async def _python(script: str, *args: object) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *map(str, args), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )


async def _ready(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line == b"ready\n", line


async def _waiting_in(server: asyncio.subprocess.Process) -> int:
    """How many requests wait in the queue of a service running in ``SERVER_PROCESS``."""
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(b"waiting?\n")
    await server.stdin.drain()
    return int(await asyncio.wait_for(server.stdout.readline(), 5))


def test_two_processes_share_one_budget_and_no_window_sees_more_than_the_weight(tmp_path: Path) -> None:
    # 100 a second: 20 at once, then 70 a second; each request takes a whole burst, one per ~0.29 s
    weight, window_s, per_process, request_weight = 100, 1.0, 6, 20

    async def scenario() -> tuple[list[list[float]], dict]:
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (weight, window_s)}, safety=0.9, burst=0.2)
        await server.start()
        try:
            clients = [await _python(CLIENT_PROCESS, server.socket_path, per_process, request_weight) for _ in range(2)]
            for process in clients:
                await _ready(process)
            for process in clients:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
                await process.stdin.drain()
            outputs = [await asyncio.wait_for(process.communicate(), 60) for process in clients]
            assert all(process.returncode == 0 for process in clients)
            return [json.loads(stdout) for stdout, _ in outputs], server.stats()["binance"]
        finally:
            await server.stop()

    grants, stats = asyncio.run(scenario())
    assert [len(g) for g in grants] == [per_process, per_process]
    assert stats.grants == 2 * per_process and stats.weight_granted == 2 * per_process * request_weight
    times = sorted(t for process in grants for t in process)
    for start in times:  # every window that opens with a grant (the fullest windows do)
        in_window = sum(request_weight for t in times if start <= t < start + window_s)
        assert in_window <= weight, f"{in_window} weight granted within {window_s} s from {start}"
    # one budget for both: 240 weight at 70 a second after the first 20 (two budgets: half the time)
    assert times[-1] - times[0] >= (2 * per_process * request_weight - 20) / 70 * 0.9


def test_priority_wins_across_clients(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (100, 1.0)}, safety=1.0, burst=0.5)
        await server.start()
        initial, resync = SnapshotBudgetClient(server.socket_path), SnapshotBudgetClient(server.socket_path)
        order: list[str] = []

        async def ask(client: SnapshotBudgetClient, name: str, priority: int) -> None:
            await client.acquire("binance", 10, priority)
            order.append(name)

        try:
            await initial.acquire("binance", 50)  # the whole bucket: everything after waits for the refill
            starting = [asyncio.create_task(ask(initial, "starting", 1)) for _ in range(4)]
            await wait_until_async(lambda: server.stats()["binance"].waiting == 4, 5, "the starting books queued")
            broken = [asyncio.create_task(ask(resync, "broken", 0)) for _ in range(4)]
            await asyncio.wait_for(asyncio.gather(*starting, *broken), 10)
            return order
        finally:
            await initial.close()
            await resync.close()
            await server.stop()

    # books that broke (priority 0, from another daemon, asking later) go before books starting their session
    assert asyncio.run(scenario()) == ["broken"] * 4 + ["starting"] * 4


def test_a_client_started_before_the_service_connects_once_it_appears(tmp_path: Path) -> None:
    async def scenario() -> None:
        client = SnapshotBudgetClient(tmp_path / "budget.sock", connect_timeout_s=30)
        request = asyncio.create_task(client.acquire("binance", 5))
        await asyncio.sleep(0.3)  # the supervisor started the service late: part of the scenario
        assert not request.done()
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (100, 1.0)})
        await server.start()
        try:
            await asyncio.wait_for(request, 5)
            assert server.stats()["binance"].grants == 1
        finally:
            await client.close()
            await server.stop()

    asyncio.run(scenario())


def test_requests_waiting_when_the_service_stops_are_granted_by_the_next_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        path = tmp_path / "budget.sock"
        first = SnapshotBudgetServer(path, {"binance": (10, 60.0)})  # 2 at once, then 2 more every ~17 s
        await first.start()
        client = SnapshotBudgetClient(path, connect_timeout_s=30)
        try:
            await client.acquire("binance", 2)
            waiting = [asyncio.create_task(client.acquire("binance", 2, priority)) for priority in (0, 1, 1)]
            await wait_until_async(lambda: first.stats()["binance"].waiting == 3, 5, "three requests queued")
            await client.backoff("binance", 0.5)  # a 429 the next service must honour too
            await first.stop()
            assert not path.exists()
            second = SnapshotBudgetServer(path, {"binance": (100, 1.0)})
            await second.start()
            try:
                await asyncio.wait_for(asyncio.gather(*waiting), 10)
                assert second.stats()["binance"].grants == 3 and second.stats()["binance"].backoffs == 1
            finally:
                await second.stop()
        finally:
            await client.close()

    asyncio.run(scenario())


def test_a_killed_service_process_is_replaced_and_waiting_requests_are_granted(tmp_path: Path) -> None:
    async def scenario() -> None:
        path = tmp_path / "budget.sock"
        stingy = await _python(SERVER_PROCESS, path, 10, 600.0)  # 2 at once, then 2 more every ~3 min
        await _ready(stingy)
        client = SnapshotBudgetClient(path, connect_timeout_s=30)
        try:
            await client.acquire("binance", 2)
            waiting = [asyncio.create_task(client.acquire("binance", 2)) for _ in range(3)]
            deadline = time.monotonic() + 5
            while await _waiting_in(stingy) < 3:  # they are to be waiting in its queue when it dies
                assert time.monotonic() < deadline, "the requests never reached the service"
                await asyncio.sleep(0.01)
            os.kill(stingy.pid, signal.SIGKILL)
            await stingy.wait()
            assert path.exists()  # a killed service leaves its socket behind; the next one replaces it
            generous = await _python(SERVER_PROCESS, path, 100, 1.0)
            try:
                await _ready(generous)
                await asyncio.wait_for(asyncio.gather(*waiting), 10)
            finally:
                generous.kill()
                await generous.wait()
        finally:
            await client.close()

    asyncio.run(scenario())


def test_a_client_gives_up_after_its_connect_timeout_with_a_clear_error(tmp_path: Path) -> None:
    async def scenario() -> float:
        client = SnapshotBudgetClient(tmp_path / "missing.sock", connect_timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(SnapshotBudgetUnavailable, match=r"not reachable \(retried for 0.5 s\)"):
            await asyncio.gather(*(client.acquire("binance", 1) for _ in range(50)))
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5  # fifty waiting requests share one attempt, not fifty in a row


def test_malformed_lines_get_error_replies_and_the_connection_lives_on(tmp_path: Path) -> None:
    lines = [
        b"not json",
        b"[1, 2]",
        b'{"id": 1}',
        b'{"id": 2, "acquire": {"weight": 1}}',
        b'{"id": 3, "acquire": {"exchange": "binance", "weight": "x"}}',
        b'{"id": 4, "acquire": {"exchange": "binance", "weight": 0}}',
        b'{"acquire": {"exchange": "binance", "weight": 1}}',
        b'{"backoff": {"seconds": 1}}',
        b'{"backoff": {"exchange": "nope", "seconds": 1}}',
        b'{"id": 5, "acquire": {"exchange": "binance", "weight": 100000}}',
        b'{"id": 6, "acquire": {"exchange": "binance", "weight": 1}}',
    ]

    async def scenario() -> tuple[list[dict], SnapshotBudgetServer]:
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (100, 1.0)})
        await server.start()
        try:
            reader, writer = await asyncio.open_unix_connection(str(server.socket_path))
            writer.write(b"\n".join(lines) + b"\n")
            replies = [json.loads(await asyncio.wait_for(reader.readline(), 5)) for _ in range(len(lines))]
            writer.close()
            return replies, server
        finally:
            await server.stop()

    replies, server = asyncio.run(scenario())
    errors = [reply for reply in replies if "error" in reply]
    assert len(errors) == 10 and all(reply["error"] for reply in errors)
    assert [reply for reply in replies if reply.get("granted")] == [{"id": 6, "granted": True}]
    assert {reply["id"] for reply in errors} == {None, 1, 2, 3, 4, 5}  # whoever sent an id learns which failed
    assert any("no request budget for exchange 'nope'" in reply["error"] for reply in errors)
    assert any("exceeds the budget's capacity" in reply["error"] for reply in errors if reply["id"] == 5)
    assert server.malformed == 8 and server.stats()["binance"].refused == 1


def test_a_cancelled_request_leaves_the_services_queue(tmp_path: Path) -> None:
    async def scenario() -> None:
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (10, 60.0)})
        await server.start()
        client = SnapshotBudgetClient(server.socket_path)
        try:
            await client.acquire("binance", 2)
            request = asyncio.create_task(client.acquire("binance", 2))
            await wait_until_async(lambda: server.stats()["binance"].waiting == 1, 5, "the request queued")
            request.cancel()  # its session ended: the next session asks afresh, this one must not spend weight
            await wait_until_async(lambda: server.stats()["binance"].waiting == 0, 5, "the request withdrawn")
        finally:
            await client.close()
            await server.stop()

    asyncio.run(scenario())


def test_a_second_service_refuses_a_live_socket_and_never_replaces_other_files(tmp_path: Path) -> None:
    async def scenario() -> None:
        server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (100, 1.0)})
        await server.start()
        try:
            with pytest.raises(SnapshotBudgetError, match="already serving"):
                await SnapshotBudgetServer(server.socket_path, {"binance": (100, 1.0)}).start()
            client = SnapshotBudgetClient(server.socket_path)
            await client.acquire("binance", 1)  # the first one still serves
            await client.close()
        finally:
            await server.stop()
        (tmp_path / "notes.txt").write_text("keep")
        with pytest.raises(SnapshotBudgetError, match="not a socket"):
            await SnapshotBudgetServer(tmp_path / "notes.txt", {"binance": (100, 1.0)}).start()
        assert (tmp_path / "notes.txt").read_text() == "keep"

    asyncio.run(scenario())


def test_socket_settings_resolve_under_the_state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEPLAT_STATE_DIR", str(tmp_path))
    assert budget_socket_path("snapshot-budget.sock") == tmp_path / "snapshot-budget.sock"
    assert budget_socket_path("run/budget.sock") == tmp_path / "run" / "budget.sock"
    assert budget_socket_path("/run/tradeplat/budget.sock") == Path("/run/tradeplat/budget.sock")
    with pytest.raises(ConfigError, match="longer than a unix socket path"):
        budget_socket_path("x" * 120)


# -- ingestion's side: a book is never left without its snapshot ----------------------------------
def _binance(sim: SimulatorThread) -> tuple[BinanceFeed, list]:
    urls = sim.urls["binance"]
    feed = BinanceFeed(rest_base_url=urls.rest, ws_base_url=urls.websocket)
    body = urllib.request.urlopen(urls.rest + feed.instruments_path(), timeout=10).read()
    return feed, feed.parse_instruments(body)


def test_a_snapshot_waits_for_a_budget_service_that_is_down(tmp_path: Path) -> None:
    config = load_simulator_config({"exchanges": ["binance"], "instruments": 3, "rate": 50, "seed": 5})
    with SimulatorThread(config) as sim:
        feed, instruments = _binance(sim)
        fetch = feed.book_snapshot(instruments[0])
        assert fetch is not None

        async def scenario() -> tuple[bytes, int]:
            budget = SnapshotBudgetClient(tmp_path / "budget.sock", connect_timeout_s=0.2)
            snapshots = RestSnapshotClient("binance", feed.rest_base_url, budget)
            request = asyncio.create_task(snapshots.get(fetch.path, fetch.weight))
            await wait_until_async(lambda: snapshots.budget_unavailable >= 1, 10, "the budget service found absent")
            server = SnapshotBudgetServer(tmp_path / "budget.sock", {"binance": (6000, 60.0)})
            await server.start()
            try:
                body, _ = await asyncio.wait_for(request, 10)
                return body, snapshots.budget_unavailable
            finally:
                await snapshots.close()
                await budget.close()
                await server.stop()

        body, unavailable = asyncio.run(scenario())
        assert b"lastUpdateId" in body and unavailable >= 1


def test_a_snapshot_the_budget_refuses_stops_the_connection_loudly(tmp_path: Path) -> None:
    """The host's service does not budget this exchange: no retry can help, so the connection
    records the failure (the ingestion daemon exits on it) instead of leaving books without snapshots."""
    config = load_simulator_config({"exchanges": ["binance"], "instruments": 3, "rate": 50, "seed": 5})
    with SimulatorThread(config) as sim:
        feed, instruments = _binance(sim)

        async def scenario() -> tuple[SnapshotBudgetError | None, list[RawFrame]]:
            server = SnapshotBudgetServer(tmp_path / "budget.sock", {"okx": (20, 2.0)})
            await server.start()
            budget = SnapshotBudgetClient(server.socket_path)
            frames: list[RawFrame] = []
            connection = FeedConnection(
                feed, "binance-t", instruments, ["depth"], frames.append,
                RestSnapshotClient("binance", feed.rest_base_url, budget),
            )  # fmt: skip
            task = asyncio.create_task(connection.run())
            try:
                await wait_until_async(lambda: connection.failure is not None, 10, "the refusal recorded")
                return connection.failure, frames
            finally:
                connection.stop()
                await asyncio.wait_for(task, 10)
                await budget.close()
                await server.stop()

        failure, frames = asyncio.run(scenario())
        assert isinstance(failure, SnapshotBudgetError) and "no request budget for exchange 'binance'" in str(failure)
        assert not any(frame.kind is FrameKind.REST for frame in frames)
