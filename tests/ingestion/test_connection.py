"""A feed connection against the simulated exchanges over real WebSockets: sessions, resyncs."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest

from platform_streams.exchanges.kraken.feed import KrakenFeed
from platform_streams.exchanges.okx.feed import OkxFeed
from platform_streams.exchanges.venue_adapter import MarketDataFeed
from platform_streams.ingestion.connection import ConnectionSettings, FeedConnection
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from tests.waiting import wait_until_async

INSTRUMENTS = 60


class RecordingConnection(FeedConnection):
    """Keeps every message the connection sent to the exchange."""

    sent: list[bytes]

    async def _send(self, message: bytes) -> None:
        self.sent.append(message)
        await super()._send(message)


def _snapshots(frames: list[RawFrame], marker: bytes) -> int:
    return sum(1 for f in frames if f.kind is FrameKind.WEBSOCKET and marker in f.payload)


@pytest.mark.parametrize(
    ("exchange", "feed_class", "snapshot_marker"),
    [("okx", OkxFeed, b'"action":"snapshot"'), ("kraken", KrakenFeed, b'"as":[')],
)
def test_resyncs_of_many_books_are_resubscribed_in_two_messages(exchange: str, feed_class: type, snapshot_marker: bytes) -> None:
    """A thousand resync requests at once must not spend a thousand of a connection's few subscribe
    requests (OKX: 480 an hour): they are gathered, and every book still gets its fresh snapshot."""
    config = load_simulator_config({"exchanges": [exchange], "instruments": INSTRUMENTS, "rate": 200, "seed": 5})
    with SimulatorThread(config) as sim:
        urls = sim.urls[exchange]
        feed: MarketDataFeed = feed_class(rest_base_url=urls.rest, ws_base_url=urls.websocket)
        body = urllib.request.urlopen(urls.rest + feed.instruments_path(), timeout=10).read()
        instruments = feed.parse_instruments(body)[:INSTRUMENTS]
        frames: list[RawFrame] = []
        connection = RecordingConnection(
            feed, f"{exchange}-t", instruments, ["book" if exchange == "kraken" else "books"], frames.append, None,
            ConnectionSettings(resync_coalesce_s=0.2),
        )  # fmt: skip
        connection.sent = []

        async def scenario() -> None:
            task = asyncio.create_task(connection.run())
            try:
                await wait_until_async(lambda: _snapshots(frames, snapshot_marker) >= len(instruments), 30, "the first snapshots")
                sent_before = len(connection.sent)
                for instrument in instruments:
                    connection.request_resync(instrument.exchange_symbol)
                    connection.request_resync(instrument.exchange_symbol)  # a normaliser's retry: no extra cost
                await wait_until_async(lambda: _snapshots(frames, snapshot_marker) >= 2 * len(instruments), 30, "fresh snapshots")
                resubscribes = connection.sent[sent_before:]
                assert len(resubscribes) == 2
                assert b"unsubscribe" in resubscribes[0] and b"unsubscribe" not in resubscribes[1]
                assert all(i.exchange_symbol.encode() in resubscribes[1] for i in instruments)
                assert connection.sessions == 1  # the session survived: nothing was reconnected to get them
            finally:
                connection.stop()
                await asyncio.wait_for(task, 10)

        asyncio.run(scenario())


def test_stop_during_the_opening_handshake_ends_the_connection() -> None:
    """stop() while the WebSocket is still opening had no socket to close: the session that opens
    after it must not start (it would read forever and the daemon would never stop)."""
    from websockets.asyncio.server import serve

    feed = OkxFeed(rest_base_url="http://127.0.0.1:1", ws_base_url="ws://127.0.0.1:1")
    frames: list[RawFrame] = []

    async def scenario() -> None:
        handshake_started, release = asyncio.Event(), asyncio.Event()

        async def hold_the_handshake(_connection, _request):
            handshake_started.set()
            await release.wait()

        async def keep_open(ws) -> None:
            await ws.wait_closed()

        async with serve(keep_open, "127.0.0.1", 0, process_request=hold_the_handshake) as server:
            port = server.sockets[0].getsockname()[1]
            feed.ws_base_url = f"ws://127.0.0.1:{port}"
            connection = FeedConnection(feed, "okx-stop", [], ["books"], frames.append, None, ConnectionSettings())
            running = asyncio.create_task(connection.run())
            await asyncio.wait_for(handshake_started.wait(), 10)
            connection.stop()
            release.set()
            await asyncio.wait_for(running, 10)
            assert connection.sessions == 0
            assert not [f for f in frames if f.kind is FrameKind.CONTROL and b"connected" in f.payload]

    asyncio.run(scenario())
