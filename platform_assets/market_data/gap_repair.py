"""Gap repair: the ``stream_gap_repair`` sensor turns the stream's gaps into runs that fetch again
exactly the affected ``exchange_candles`` partitions and symbols.

A gap is where the live stream lost data: a normaliser that found a book wrong (sequence gap,
checksum mismatch, reconnect) asks ingestion for a fresh snapshot on ``ctl.resync``. Each such
request names the exchange, the instrument and when; the sensor reads the requests since its cursor
and asks for one run per day × exchange partition with the instruments it saw, so the exchange's
candles of those instruments are fetched again over REST (the repair is the exchange's record of
the interval the stream missed). One run per partition per hour of gaps at most (its run key)."""

# No `from __future__ import annotations` here: Dagster resolves resource annotations when defined.
import json
from datetime import UTC, datetime

import dagster as dg

from platform_assets.market_data.candle_assets import EXCHANGES, CandleFetchConfig, candles_job
from platform_assets.resources.platform_servers import KafkaResource
from platform_streams.schemas import EventDecodeError, SnapshotRequest, TypedDecoder
from platform_streams.topic_reading import read_to_end
from platform_streams.topics import RESYNC_TOPIC

MAX_RECORDS = 50_000  # read per evaluation at most; the rest at the next one
READ_TIMEOUT_S = 20.0
_requests = TypedDecoder(SnapshotRequest)


def gaps_by_partition(requests: list[SnapshotRequest]) -> dict[tuple[str, str], tuple[set[str], int]]:
    """(day, exchange) → (the exchange symbols with a gap, the latest request's hour as epoch hours)."""
    found: dict[tuple[str, str], tuple[set[str], int]] = {}
    for request in requests:
        if request.exchange not in EXCHANGES:
            continue
        at = datetime.fromtimestamp(request.requested_ts_ns / 1e9, UTC)
        key = (at.date().isoformat(), request.exchange)
        symbols, hour = found.get(key, (set(), 0))
        symbols.add(request.exchange_symbol)
        found[key] = (symbols, max(hour, request.requested_ts_ns // 3_600_000_000_000))
    return found


def read_resyncs(bootstrap_servers: str, positions: dict[int, int]) -> tuple[list[SnapshotRequest], dict[int, int]]:
    """The requests on ``ctl.resync`` after ``positions`` (partition → next offset; absent: from the
    start of what the topic keeps), up to its end as of now; and the positions after them."""
    messages, positions = read_to_end(bootstrap_servers, RESYNC_TOPIC, positions, READ_TIMEOUT_S, MAX_RECORDS)
    found = []
    for message in messages:
        try:
            found.append(_requests.decode(message.value()))
        except EventDecodeError:
            continue  # not a snapshot request: nothing to repair
    return found, positions


@dg.sensor(
    name="stream_gap_repair",
    job=candles_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fetches again the exchange_candles partitions and instruments where the stream had a gap (book resyncs).",
)
def stream_gap_repair(context: dg.SensorEvaluationContext, kafka: KafkaResource) -> dg.SensorResult:
    positions = {int(p): o for p, o in json.loads(context.cursor).items()} if context.cursor else {}
    requests, positions = read_resyncs(kafka.bootstrap_servers, positions)
    runs = [
        dg.RunRequest(
            run_key=f"repair:{day}|{exchange}:{hour}",
            partition_key=dg.MultiPartitionKey({"date": day, "exchange": exchange}),
            run_config=dg.RunConfig(ops={"exchange_candles": CandleFetchConfig(exchange_symbols=sorted(symbols))}),
            tags={"tradeplat/repair": f"{len(symbols)} instruments with stream gaps"},
        )
        for (day, exchange), (symbols, hour) in sorted(gaps_by_partition(requests).items())
    ]
    return dg.SensorResult(run_requests=runs, cursor=json.dumps(positions))
