"""A small asyncio client of the simulated Binance streams for the tests (the ``websockets`` library)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import websockets


def connect(url: str) -> websockets.connect:
    """A client connection that buffers everything it has not read yet (no flow control holding back the close)."""
    return websockets.connect(url, max_queue=None, close_timeout=2)


async def receive_until(
    connection: websockets.ClientConnection, done: Callable[[list[str]], bool], timeout_s: float = 10.0
) -> list[str]:
    """Collect text frames until ``done(frames)`` holds; fails after ``timeout_s``."""
    frames: list[str] = []
    async with asyncio.timeout(timeout_s):
        while not done(frames):
            frames.append(str(await connection.recv()))
    return frames


async def request(connection: websockets.ClientConnection, payload: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]:
    """Send a control request and return the reply with the same id (market frames in between are skipped)."""
    await connection.send(json.dumps(payload))
    async with asyncio.timeout(timeout_s):
        while True:
            message = json.loads(await connection.recv())
            if "id" in message and ("result" in message or "error" in message):
                return message


def streams_seen(frames: list[str]) -> set[str]:
    return {json.loads(frame)["stream"] for frame in frames if frame.startswith('{"stream"')}
