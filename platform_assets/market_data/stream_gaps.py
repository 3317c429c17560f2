"""Where the live stream lost market data, as day × exchange gaps for the ``stream_gap_repair``
sensor to repair. Pure; three sources:

- **book resyncs** (``ctl.resync``): a normaliser found an instrument's book wrong (sequence gap,
  checksum mismatch, reconnect) — that instrument, that day;
- **sink gaps** (``dead_letters``): records a stage could not handle and dead-lettered, so their
  data is not stored — the instrument the record is keyed by (``exchange:BASE/QUOTE``), or, for a
  record of a whole connection (a raw frame), every instrument of the exchange;
- **silent connections**: an ingestion daemon the supervisors judge silent, restarting, blocked or
  failed — its exchange, today, every instrument.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

from platform_streams.schemas import SnapshotRequest
from platform_streams.supervisor.health import PlatformHealth
from platform_streams.supervisor.status import DeploymentStatus

NS_PER_HOUR = 3_600_000_000_000
FEED_DOWN_STATES = frozenset({"silent", "restarting", "blocked", "failed"})


class StreamGap(msgspec.Struct, frozen=True):
    """Data of ``exchange`` on ``day`` the stream lost: some instruments (by the exchange's own
    ``exchange_symbols`` or unified ``symbols``) or, with ``whole_exchange``, all; ``hour`` (epoch
    hours) of the latest evidence, and its ``cause``."""

    day: str
    exchange: str
    cause: str  # resync | sink | silent
    hour: int
    exchange_symbols: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()
    whole_exchange: bool = False


def _day_hour(ts_ns: int) -> tuple[str, int]:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).date().isoformat(), ts_ns // NS_PER_HOUR


def merged(gaps: Iterable[StreamGap]) -> list[StreamGap]:
    """One gap per day, exchange and cause: the instruments together, the latest hour."""
    found: dict[tuple[str, str, str], StreamGap] = {}
    for gap in gaps:
        key = (gap.day, gap.exchange, gap.cause)
        known = found.get(key)
        found[key] = gap if known is None else StreamGap(
            gap.day, gap.exchange, gap.cause, max(gap.hour, known.hour), gap.exchange_symbols | known.exchange_symbols,
            gap.symbols | known.symbols, gap.whole_exchange or known.whole_exchange,
        )  # fmt: skip
    return [found[key] for key in sorted(found)]


def resync_gaps(requests: Iterable[SnapshotRequest], exchanges: Iterable[str]) -> list[StreamGap]:
    wanted, gaps = set(exchanges), []
    for request in requests:
        if request.exchange in wanted:
            day, hour = _day_hour(request.requested_ts_ns)
            gaps.append(StreamGap(day, request.exchange, "resync", hour, exchange_symbols=frozenset({request.exchange_symbol})))
    return merged(gaps)


def dead_letter_gaps(rows: Iterable[tuple[str, bytes | None, datetime]], exchanges: Iterable[str]) -> list[StreamGap]:
    """``rows``: each dead letter's exchange, record key and time."""
    wanted, gaps = set(exchanges), []
    for exchange, key, at in rows:
        if exchange not in wanted:
            continue
        day, hour = _day_hour(int(at.timestamp()) * 1_000_000_000)
        text = (key or b"").decode("utf-8", "replace")
        prefix, _, symbol = text.partition(":")
        if prefix == exchange and "/" in symbol:
            gaps.append(StreamGap(day, exchange, "sink", hour, symbols=frozenset({symbol})))
        else:  # keyed by a connection or nothing: any instrument of the exchange may be missing
            gaps.append(StreamGap(day, exchange, "sink", hour, whole_exchange=True))
    return merged(gaps)


def silent_feed_gaps(statuses: Iterable[DeploymentStatus], health: PlatformHealth, now_ns: int) -> list[StreamGap]:
    """Today's gap of each exchange whose ingestion (a daemon of kind ``ingestion``, its exchange
    from the spec its supervisor runs) is silent, restarting, blocked or failed now."""
    exchange_of: dict[str, str] = {}
    for status in statuses:
        for deployment in status.stream_deployments:
            for daemon in (deployment.spec or {}).get("daemons", []):
                if daemon.get("kind") == "ingestion" and daemon.get("config", {}).get("exchange"):
                    exchange_of[daemon["name"]] = daemon["config"]["exchange"]
    day, hour = _day_hour(now_ns)
    down = {
        exchange_of[d.name]
        for deployment in health.deployments
        for d in deployment.daemons
        if d.kind == "ingestion" and d.state in FEED_DOWN_STATES and d.name in exchange_of
    }
    return [StreamGap(day, exchange, "silent", hour, whole_exchange=True) for exchange in sorted(down)]
