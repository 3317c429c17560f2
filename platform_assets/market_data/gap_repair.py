"""Gap repair: the ``stream_gap_repair`` sensor turns the stream's gaps into runs that fetch again
exactly the affected ``exchange_candles`` partitions and instruments.

A gap is where the live stream lost data (``stream_gaps``): a book resync on ``ctl.resync`` (that
instrument), a dead letter (the instrument it is keyed by, or the whole exchange for a connection's
frame), or an ingestion daemon that is silent, restarting or failed (the whole exchange, today). The
sensor reads what is new since its cursor and asks for one run per day × exchange partition and
cause, naming the instruments (or, for a whole exchange, none: every instrument is fetched), so the
exchange's candles of the interval the stream missed are fetched again over REST. One run per
partition, cause and hour of gaps at most (its run key)."""

# No `from __future__ import annotations` here: Dagster resolves resource annotations when defined.
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import dagster as dg

from platform_assets.market_data.candle_assets import EXCHANGES, CandleFetchConfig, candles_job
from platform_assets.market_data.stream_gaps import StreamGap, dead_letter_gaps, resync_gaps, silent_feed_gaps
from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_assets.resources.stream_control import PlatformStatusResource
from platform_streams.schemas import EventDecodeError, SnapshotRequest, TypedDecoder
from platform_streams.topic_reading import read_to_end
from platform_streams.topics import RESYNC_TOPIC

MAX_RECORDS = 50_000  # read per evaluation at most; the rest at the next one
READ_TIMEOUT_S = 20.0
FIRST_LOOK_BACK = timedelta(days=1)  # dead letters a first evaluation looks at
_requests = TypedDecoder(SnapshotRequest)


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


def read_dead_letters(database_url: str, after: datetime) -> list[tuple[str, bytes | None, datetime]]:
    """Each dead letter stored after ``after`` (at most ``MAX_RECORDS``, oldest first): exchange, key, time."""

    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(database_url)
        try:
            return await connection.fetch(
                "SELECT exchange, record_key, ts FROM dead_letters WHERE ts > $1 AND exchange <> '' ORDER BY ts LIMIT $2",
                after, MAX_RECORDS,
            )  # fmt: skip
        finally:
            await connection.close()

    return [(r["exchange"], r["record_key"], r["ts"]) for r in asyncio.run(run())]


def repair_run(gap: StreamGap) -> dg.RunRequest:
    config = CandleFetchConfig(
        exchange_symbols=[] if gap.whole_exchange else sorted(gap.exchange_symbols),
        symbols=[] if gap.whole_exchange else sorted(gap.symbols),
    )
    what = "every instrument" if gap.whole_exchange else f"{len(gap.exchange_symbols) + len(gap.symbols)} instruments"
    return dg.RunRequest(
        run_key=f"repair:{gap.day}|{gap.exchange}:{gap.hour}" + ("" if gap.cause == "resync" else f":{gap.cause}"),
        partition_key=dg.MultiPartitionKey({"date": gap.day, "exchange": gap.exchange}),
        run_config=dg.RunConfig(ops={"exchange_candles": config}),
        tags={"tradeplat/repair": f"{what} with stream gaps ({gap.cause})"},
    )


def _cursor(text: str | None) -> tuple[dict[int, int], datetime | None]:
    if not text:
        return {}, None
    loaded = json.loads(text)
    if "resync" not in loaded:  # a cursor of the resyncs alone (before dead letters were read)
        return {int(p): o for p, o in loaded.items()}, None
    after = loaded.get("dead_letters_after")
    return {int(p): o for p, o in loaded["resync"].items()}, datetime.fromisoformat(after) if after else None


@dg.sensor(
    name="stream_gap_repair",
    job=candles_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fetches again the exchange_candles partitions and instruments where the stream lost data: book "
    "resyncs, dead letters, silent or failing ingestion.",
)
def stream_gap_repair(
    context: dg.SensorEvaluationContext, kafka: KafkaResource, postgres: PostgresResource, status: PlatformStatusResource
) -> dg.SensorResult:
    positions, after = _cursor(context.cursor)
    requests, positions = read_resyncs(kafka.bootstrap_servers, positions)
    letters = read_dead_letters(postgres.url, after or datetime.now(UTC) - FIRST_LOOK_BACK)
    gaps = resync_gaps(requests, EXCHANGES) + dead_letter_gaps(letters, EXCHANGES)
    gaps += silent_feed_gaps(*status.statuses_and_health(), time.time_ns())
    newest = max((at for _, _, at in letters), default=after)
    cursor = {"resync": positions, "dead_letters_after": newest.isoformat() if newest else None}
    return dg.SensorResult(run_requests=[repair_run(gap) for gap in gaps], cursor=json.dumps(cursor))
