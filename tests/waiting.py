"""Waiting on a condition with a bound: the one way a test waits for something to happen.

Tests take it as the ``wait_until`` fixture (tests/conftest.py); harness modules that are not tests
import it from here. Never a bare sleep: a condition polled until true, or a failure naming what
did not happen within the bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout_s: float = 10.0,
    what: str = "the condition",
    *,
    between: Callable[[], object] | None = None,
    describe: Callable[[], object] | None = None,
    interval_s: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns something truthy and return that value; fail after
    ``timeout_s`` naming ``what`` (and ``describe()``, e.g. a supervisor's status). ``between`` runs
    between polls (a supervisor's tick, a market step)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f": {describe()}" if describe is not None else ""
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}{detail}")
        if between is not None:
            between()
        time.sleep(interval_s)


async def wait_until_async(
    condition: Callable[[], T], timeout_s: float = 10.0, what: str = "the condition", interval_s: float = 0.02
) -> T:
    """:func:`wait_until` inside an event loop: the loop runs on while it waits."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(interval_s)


WaitUntil = Callable[..., Any]
"""The ``wait_until`` fixture's type."""
