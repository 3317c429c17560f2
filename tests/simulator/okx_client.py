"""Small helpers for the OKX tests: subscribe over a ``websockets`` connection and sort received frames by channel."""

from __future__ import annotations

import json
from typing import Any

import websockets

from platform_streams.simulator import SimulatorThread

CHANNELS = ("trades", "books", "bbo-tbt", "tickers", "candle1m")


def okx_instruments(simulator: SimulatorThread, count: int) -> list[str]:
    return simulator.call(lambda: simulator.simulator.venues["okx"].instruments.names[:count])


def public_url(simulator: SimulatorThread) -> str:
    return simulator.urls["okx"].websocket + "/ws/v5/public"


async def subscribe(
    connection: websockets.ClientConnection, args: list[dict[str, str]], op: str = "subscribe", passed: list[str] | None = None
) -> list[dict]:
    """Send one op and return its acknowledgements (one per argument); market frames met meanwhile go to ``passed``."""
    await connection.send(json.dumps({"op": op, "args": args}))
    replies = []
    while len(replies) < len(args):
        frame = str(await connection.recv())
        if frame.startswith('{"event"') or frame.startswith('{"id"'):
            replies.append(json.loads(frame))
        else:
            assert passed is not None, f"market data before the acknowledgement: {frame[:200]}"
            passed.append(frame)
    return replies


def kind_of(frame: str) -> str:
    """``books/snapshot``, ``trades``, ``event/subscribe``... of one received frame."""
    if frame == "pong":
        return "pong"
    body: dict[str, Any] = json.loads(frame)
    if "event" in body:
        return f"event/{body['event']}"
    channel = body["arg"]["channel"]
    return f"{channel}/{body['action']}" if "action" in body else channel
