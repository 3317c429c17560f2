"""Exchange timestamps to integer nanoseconds since the epoch, exactly (no float on the way)."""

from __future__ import annotations

import calendar
import functools
import time

NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000


class TimestampError(ValueError):
    """Timestamp text that is not in the exchange's documented form."""


def seconds_text_to_ns(text: str) -> int:
    """``"1618678133.365913"`` (seconds with a decimal fraction, as Kraken sends) → ns."""
    seconds, _, fraction = text.partition(".")
    if (
        not (seconds.isdigit() and seconds.isascii())
        or len(fraction) > 9
        or (fraction and not (fraction.isdigit() and fraction.isascii()))
    ):
        raise TimestampError(f"not seconds with at most 9 decimals: {text!r}")
    return int(seconds) * NS_PER_SECOND + (int(fraction.ljust(9, "0")) if fraction else 0)


def milliseconds_text_to_ns(text: str) -> int:
    """``"1652459225464"`` (milliseconds as text, as OKX sends) → ns."""
    if not (text.isdigit() and text.isascii()):
        raise TimestampError(f"not integer milliseconds: {text!r}")
    return int(text) * NS_PER_MS


def iso8601_to_ns(text: str) -> int:
    """``"2021-04-17T16:43:37.075687Z"`` (UTC, up to 9 decimals, as Coinbase sends) → ns."""
    if not text.endswith("Z"):
        raise TimestampError(f"not a UTC ISO 8601 time ending in Z: {text!r}")
    whole, _, fraction = text[:-1].partition(".")
    if len(fraction) > 9 or (fraction and not (fraction.isdigit() and fraction.isascii())):
        raise TimestampError(f"bad fraction of a second in {text!r}")
    return _epoch_seconds(whole) * NS_PER_SECOND + (int(fraction.ljust(9, "0")) if fraction else 0)


@functools.lru_cache(maxsize=4096)
def _epoch_seconds(date_time: str) -> int:
    """Seconds since the epoch of ``2021-04-17T16:43:37`` (UTC); cached, as a feed repeats each second many times."""
    try:
        return calendar.timegm(time.strptime(date_time, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        raise TimestampError(f"not an ISO 8601 date and time: {date_time!r}") from None
