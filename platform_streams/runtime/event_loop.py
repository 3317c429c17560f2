"""The event loop every asyncio daemon runs on: uvloop (libuv, in C).

WebSocket ingestion and the exchange simulator spend much of their time in the event
loop itself (socket reads and writes, callbacks, timers); uvloop does that work in C.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop event loop for a daemon that drives one itself (``run_until_complete``)."""
    return uvloop.new_event_loop()
