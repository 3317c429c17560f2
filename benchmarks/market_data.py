"""Benchmark of the market-data path (issue 5): (a) normalisation throughput on one core, (b) the whole pipeline.

(a) From raw frame bytes to encoded canonical events ready to produce, on the real recorded
payloads of ``tests/data/exchanges/``, through :meth:`Normaliser.handle` (what the
normalisation daemon runs per ``md.raw`` record: the Binance trade fast path, the parsers, the
book syncs with their integrity checks, ``Output`` records with encoded values):

- Binance trades: ``@trade`` frames (the 2024-08-08 BTCUSDT capture) and ``@aggTrade`` frames
  (the 2021 captures, 11 symbols), each in the combined-stream (``/stream``) and raw-stream
  (``/ws``) forms, plus the 2024 trades respelled as one-trade ``@aggTrade`` frames. The
  parser's fast path alone (``BinanceParser.parse_trade_fast``) is printed too.
- cryptofeed 2.4.1's Binance feed on the same ``@aggTrade`` frames in the same run (it parses
  Binance trades from ``aggTrade`` only, combined streams only): its ``message_handler`` fed each
  frame as text (what a WebSocket library hands it) with a no-op trade callback, driven without
  an event loop. It runs in a subprocess under ``.venv-bench`` (``make bench-venv``), so
  cryptofeed never enters the project venv; both processes are pinned to the same single CPU.
- Book updates applied to books with their integrity checks: Binance depth diffs with the
  ``U``/``u`` rule (REST snapshot and diffs in recorded order), OKX ``books-l2-tbt`` with its
  CRC32 checksum, Kraken v1 ``book`` with its CRC32 checksum, Kraken v2 ``book`` (the BTC/USD depth-25
  capture, its acknowledgement first) with its CRC32 checksum; every pass must end with no resync.

Each workload is measured over ``--runs`` runs of about ``--seconds`` of this process's CPU
time (``time.process_time_ns``: the machine is shared, and another process on the core slows
the wall clock, not this process's CPU time); a pass is a fresh normaliser over all the frames
(so nothing is cached from an earlier pass), and the median is printed with min and max.

(b) ``--pipeline`` (``--pipeline-only`` skips part a): the whole path at 3 exchanges ×
``--instruments-per-exchange`` instruments (default 1,000) on the embedded stack, the simulator at
``--rate`` order-flow events/s in its own process, ingestion, normalisers and sink under the
supervisor, measured from the daemons' own metrics (:mod:`benchmarks.market_data_pipeline`):
canonical events/s with the normalisers' lag through the window, and raw-receive →
canonical-produce latency p50/p99.

    make bench-market-data
    .venv/bin/python benchmarks/market_data.py [--runs 5] [--seconds 0.5] [--cryptofeed-python .venv-bench/bin/python]
    .venv/bin/python benchmarks/market_data.py --pipeline-only [--rate 6000] [--warmup 60] [--window 60]

The last line printed is one JSON object:

- ``parse_binance_trades_mps``: the lowest median over the Binance trade workloads (every form
  Binance sends is at least this fast); ``parse_binance_trades_mps_by_workload`` has each;
- ``cryptofeed_binance_trades_mps``: cryptofeed's median on the real ``@aggTrade`` frames, and
  ``binance_trades_vs_cryptofeed``: ours over cryptofeed's on identical frames, the lower of the
  two shared workloads;
- ``parse_book_updates_mps``: the lowest median over the book workloads (each must keep up on
  its own, so the slowest is the figure); ``parse_book_updates_mps_by_exchange`` has each;
- ``pipeline_eps``, ``p50_ms``, ``p99_ms``: part (b), null unless ``--pipeline``; with it also
  ``pipeline_frames_per_s``, ``pipeline_stored_trades_per_s``, ``pipeline_lag`` (start, end, max)
  and ``pipeline_cpu_us_per_frame`` (CPU per raw frame of each part of the machine).

This file also runs as the cryptofeed worker (``--cryptofeed-worker``) under ``.venv-bench``,
which has cryptofeed and no platform packages: the module imports only the standard library,
and the functions measuring the platform import it where they start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

REPO = Path(__file__).resolve().parents[1]
BTCUSDT_2024 = "binance/2024-08-08_hftbacktest_spot_BTCUSDT.jsonl.gz"
AGG_TRADE_CAPTURES = ("binance/2021-04-05_cryptofeed_spot_10sym.jsonl", "binance/2021-04-04_cryptofeed_spot_BTC-ETH-DOT.jsonl")
BINANCE_EXCHANGE_INFO = "binance/2021-10-12_cryptofeed_exchangeInfo.rest.jsonl"
OKX_BOOKS = "okx/2022-02-27_cryptofeed_v5_books-l2-tbt.ws.jsonl"
OKX_INSTRUMENTS = "okx/2022-02-27_cryptofeed_instruments.rest.jsonl"
KRAKEN_BOOK = "kraken/2021-04-17_cryptofeed_v1_book.ws.jsonl"
KRAKEN_ASSET_PAIRS = "kraken/2021-04-17_cryptofeed_AssetPairs.rest.jsonl"
KRAKEN_V2_BOOK = "kraken/2026-08-02_crossbook_v2_book25_BTC-USD.jsonl"

REAL_AGG_TRADES = "@aggTrade combined, 11 symbols (2021)"
RESPELLED_AGG_TRADES = "@aggTrade combined, BTCUSDT (2024 @trade respelled)"
COMPARED_WORKLOADS = (REAL_AGG_TRADES, RESPELLED_AGG_TRADES)

if TYPE_CHECKING:
    from platform_streams.exchanges.instruments import InstrumentRegistry
    from platform_streams.schemas.raw_frames import RawFrame


class Figure(NamedTuple):
    """Messages per second over the runs of one workload."""

    median: float
    low: float
    high: float


# -- measuring (standard library only: the cryptofeed worker uses it too) ---------------------------


def measure(name: str, messages: int, one_pass: Callable[[], None], runs: int, seconds: float) -> Figure:
    """Messages/s of ``one_pass`` (``messages`` per pass) over ``runs`` runs, after a warm-up pass."""
    one_pass()  # warm up: imports, first-use caches, the allocator
    return report(name, messages, [rate(messages, one_pass, seconds) for _ in range(runs)])


def rate(messages: int, one_pass: Callable[[], None], seconds: float) -> float:
    """One run: ``one_pass`` repeated for about ``seconds`` of this process's CPU time; messages per CPU second."""
    passes, start = 0, time.process_time_ns()
    while True:
        one_pass()
        passes += 1
        elapsed_ns = time.process_time_ns() - start
        if elapsed_ns >= seconds * 1e9:
            return passes * messages / (elapsed_ns / 1e9)


def report(name: str, messages: int, rates: list[float]) -> Figure:
    figure = Figure(statistics.median(rates), min(rates), max(rates))
    print(
        f"{name:<66} median {figure.median:>10,.0f} msg/s  (min {figure.low:,.0f}, max {figure.high:,.0f}; "
        f"{len(rates)} runs, {messages:,} messages per pass)",
        flush=True,
    )
    return figure


def pin_to_one_cpu() -> int:
    """Run on one CPU (the lowest this process may use), as the figures are per core; children inherit it."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


# -- the recorded payloads (read with the tests' capture reader, tests/exchanges/captures.py) -------


def recorded_frames(capture: str, marker: bytes = b"") -> list[bytes]:
    """The frames the exchange sent in a capture of tests/data/exchanges, as sent, that contain ``marker``."""
    from tests.exchanges.captures import received_frames

    return [record.frame for record in received_frames(capture) if marker in record.frame]


# -- (a) Binance trades ----------------------------------------------------------------------------


def binance_instruments() -> InstrumentRegistry:
    from platform_streams.exchanges.binance.instruments import registry_from_exchange_info
    from tests.exchanges.captures import rest_bodies

    return registry_from_exchange_info(rest_bodies(BINANCE_EXCHANGE_INFO)[0].frame)


def trade_workloads(instruments: InstrumentRegistry) -> dict[str, list[bytes]]:
    """The Binance trade frames, by workload; the ``@aggTrade`` ones are those cryptofeed also parses."""
    import msgspec

    trades = recorded_frames(BTCUSDT_2024, b"@trade")
    agg_trades = [
        frame
        for capture in AGG_TRADE_CAPTURES
        for frame in recorded_frames(capture, b"@aggTrade")
        if _is_trading(instruments, msgspec.json.decode(frame)["data"]["s"])
    ]

    def raw(frames: list[bytes]) -> list[bytes]:
        return [msgspec.json.encode(msgspec.json.decode(frame)["data"]) for frame in frames]

    return {
        "@trade combined, BTCUSDT (2024)": trades,
        "@trade raw, BTCUSDT (2024)": raw(trades),
        REAL_AGG_TRADES: agg_trades,
        "@aggTrade raw, 11 symbols (2021)": raw(agg_trades),
        RESPELLED_AGG_TRADES: [agg_trade_from_trade(frame) for frame in trades],
    }


def _is_trading(instruments: InstrumentRegistry, exchange_symbol: str) -> bool:
    """cryptofeed loads only symbols whose exchangeInfo status is TRADING; compare on those."""
    instrument = instruments.get(exchange_symbol)
    return instrument is not None and instrument.active


def agg_trade_from_trade(frame: bytes) -> bytes:
    """A combined ``@trade`` frame respelled as the ``@aggTrade`` frame of a one-trade aggregate (same text, Binance's key order)."""
    import msgspec

    data = msgspec.json.decode(frame)["data"]
    return (
        f'{{"stream":"{data["s"].lower()}@aggTrade","data":{{"e":"aggTrade","E":{data["E"]},"s":"{data["s"]}","a":{data["t"]},'
        f'"p":"{data["p"]}","q":"{data["q"]}","f":{data["t"]},"l":{data["t"]},"T":{data["T"]},'
        f'"m":{"true" if data["m"] else "false"},"M":true}}}}'
    ).encode()


def raw_frames(
    exchange: str, frames: Iterable[bytes], rest: tuple[int, bytes, str] | None = None, session: bool = True
) -> list[RawFrame]:
    """``md.raw`` records of ``frames``, after the session's ``connected`` record as ingestion writes them
    (``session``: books need it; trades do not); ``rest`` = (position, body, path) inserts a REST body."""
    import msgspec

    from platform_streams.schemas.raw_frames import ConnectionEvent, FrameKind, RawFrame

    connected = msgspec.json.encode(ConnectionEvent("connected"))
    start = RawFrame(exchange, "bench-conn", -2, 1_723_161_254_087_896_568, FrameKind.CONTROL, connected)
    records = [
        RawFrame(exchange, "bench-conn", i, 1_723_161_254_087_896_568 + i, FrameKind.WEBSOCKET, f) for i, f in enumerate(frames)
    ]
    if rest is not None:
        position, body, path = rest
        records.insert(position, RawFrame(exchange, "bench-conn", -1, 1_723_161_254_087_896_568, FrameKind.REST, body, path))
    return [start, *records] if session else records


def binance_trades(
    instruments: InstrumentRegistry, workloads: dict[str, list[bytes]], runs: int, seconds: float
) -> dict[str, Figure]:
    from platform_streams.exchanges.binance.parser import BinanceParser
    from platform_streams.normalisation.normaliser import Normaliser

    figures = {}
    for name, frames in workloads.items():
        records = raw_frames("binance", frames, session=False)

        def normalise(records: list[RawFrame] = records) -> None:
            normaliser = Normaliser()
            normaliser.set_instruments("binance", instruments)
            handle = normaliser.handle
            for record in records:
                handle(record)

        def parse_fast(frames: list[bytes] = frames) -> None:
            parse_trade_fast = BinanceParser(instruments).parse_trade_fast
            for frame in frames:
                parse_trade_fast(frame, 1_723_161_254_087_896_568)

        check_every_frame_is_one_trade(instruments, records)
        figures[name] = measure(f"Binance {name}", len(frames), normalise, runs, seconds)
        measure("  parser fast path only (BinanceParser.parse_trade_fast)", len(frames), parse_fast, runs, seconds)
    return figures


def check_every_frame_is_one_trade(instruments: InstrumentRegistry, records: list[RawFrame]) -> None:
    from platform_streams.normalisation.normaliser import Normaliser
    from platform_streams.topics import TRADE_TOPIC

    normaliser = Normaliser()
    normaliser.set_instruments("binance", instruments)
    for record in records:
        outputs = normaliser.handle(record)
        if [output.topic for output in outputs] != [TRADE_TOPIC]:
            raise RuntimeError(f"a Binance trade frame gave {outputs!r}, not one trade: {record.payload[:120]!r}")


# -- (a) cryptofeed, in .venv-bench ------------------------------------------------------------------


def cryptofeed_trades(python: Path, workloads: dict[str, list[bytes]], runs: int, seconds: float) -> dict[str, Figure]:
    """cryptofeed's rates on the compared workloads, measured by this file run as the worker under ``python``."""
    if not python.exists():
        raise SystemExit(f"{python} not found: create the benchmark's cryptofeed venv with `make bench-venv`")
    from tests.exchanges.captures import rest_bodies

    with tempfile.TemporaryDirectory(prefix="bench-cryptofeed-") as directory:
        folder = Path(directory)
        (folder / "exchangeInfo.json").write_bytes(rest_bodies(BINANCE_EXCHANGE_INFO)[0].frame)
        for index, name in enumerate(COMPARED_WORKLOADS):
            (folder / f"workload-{index}.jsonl").write_bytes(b"\n".join(workloads[name]) + b"\n")
        command = [str(python), __file__, "--cryptofeed-worker", directory, "--runs", str(runs), "--seconds", str(seconds)]
        worker = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    rates: dict[str, list[float]] = json.loads(worker.stdout.splitlines()[-1])
    return {
        name: report(f"cryptofeed {name}", len(workloads[name]), rates[f"workload-{index}"])
        for index, name in enumerate(COMPARED_WORKLOADS)
    }


def run_cryptofeed_worker(directory: Path, runs: int, seconds: float) -> None:
    """In ``.venv-bench``: cryptofeed's Binance ``message_handler`` over each workload file; prints the rates as JSON."""
    from decimal import Decimal

    from cryptofeed.defines import TRADES
    from cryptofeed.exchanges.binance import Binance
    from cryptofeed.symbols import Symbols
    from yapic import json as yapic_json

    symbols, info = Binance._parse_symbol_data(
        yapic_json.loads((directory / "exchangeInfo.json").read_text(), parse_float=Decimal)
    )
    Symbols.set(Binance.id, symbols, info)
    trades_seen = 0

    async def ignore(trade: object, receive_timestamp: float) -> None:
        nonlocal trades_seen
        trades_seen += 1

    handler = Binance(symbols=["BTC-USDT"], channels=[TRADES], callbacks={TRADES: ignore}).message_handler
    rates: dict[str, list[float]] = {}
    for path in sorted(directory.glob("workload-*.jsonl")):
        frames = path.read_text().splitlines()

        def one_pass(frames: list[str] = frames) -> None:
            for frame in frames:
                coroutine = handler(frame, None, 1.0)
                try:
                    coroutine.send(None)
                except StopIteration:
                    continue
                raise RuntimeError("cryptofeed's message handler waited on I/O: the measurement would not be parsing only")

        trades_seen = 0
        one_pass()
        if trades_seen != len(frames):
            raise RuntimeError(f"cryptofeed parsed {trades_seen} trades from {len(frames)} frames of {path.name}")
        rates[path.stem] = [rate(len(frames), one_pass, seconds) for _ in range(runs)]
    print(json.dumps(rates))


# -- (a) book updates ------------------------------------------------------------------------------------


def book_updates(runs: int, seconds: float) -> dict[str, Figure]:
    from platform_streams.exchanges.kraken.instruments import registry_from_asset_pairs
    from platform_streams.exchanges.kraken_v2.instruments import registry_from_asset_pairs as kraken_v2_registry
    from platform_streams.exchanges.okx.instruments import registry_from_instruments
    from tests.exchanges.captures import read_capture, rest_bodies

    capture = read_capture(BTCUSDT_2024)
    snapshot_at = next(i for i, record in enumerate(capture) if record.direction == "rest")
    diffs_before = sum(1 for record in capture[:snapshot_at] if record.direction == "in" and b"@depth" in record.frame)
    binance = raw_frames(
        "binance",
        recorded_frames(BTCUSDT_2024, b"@depth"),
        (diffs_before, capture[snapshot_at].frame, "/api/v3/depth?symbol=BTCUSDT&limit=1000"),
    )
    okx = raw_frames("okx", (f for f in recorded_frames(OKX_BOOKS, b'"books-l2-tbt"') if b'"data"' in f))
    kraken = raw_frames("kraken", (f for f in recorded_frames(KRAKEN_BOOK) if f.startswith(b"[")))
    okx_instruments = registry_from_instruments([body.frame for body in rest_bodies(OKX_INSTRUMENTS)])
    kraken_instruments = registry_from_asset_pairs(rest_bodies(KRAKEN_ASSET_PAIRS)[0].frame)
    # v2: the subscribe acknowledgement (the book's depth) then every book message of the capture
    kraken_v2 = raw_frames("krakenv2", recorded_frames(KRAKEN_V2_BOOK, b'"book"'))
    kraken_v2_instruments = kraken_v2_registry(rest_bodies(KRAKEN_ASSET_PAIRS)[0].frame)
    return {
        "binance": measure_books(
            "Binance depth diffs: U/u rule, snapshot + diffs in recorded order", "binance", binance, None, runs, seconds
        ),
        "okx": measure_books(
            "OKX books-l2-tbt: CRC32 checksum (the capture predates seqId)", "okx", okx, okx_instruments, runs, seconds
        ),
        "kraken": measure_books(
            "Kraken v1 book: CRC32 checksum on every update", "kraken", kraken, kraken_instruments, runs, seconds
        ),
        "krakenv2": measure_books(
            "Kraken v2 book: CRC32 checksum on every message, numbers read as their JSON text",
            "krakenv2",
            kraken_v2,
            kraken_v2_instruments,
            runs,
            seconds,
        ),  # fmt: skip
    }


def measure_books(
    name: str, exchange: str, records: list[RawFrame], instruments: InstrumentRegistry | None, runs: int, seconds: float
) -> Figure:
    from platform_streams.normalisation.normaliser import Normaliser
    from platform_streams.schemas.raw_frames import FrameKind

    def one_pass() -> None:
        normaliser = Normaliser()  # the Kraken capture's frames say their depth (book-1000)
        if instruments is not None:
            normaliser.set_instruments(exchange, instruments)
        handle = normaliser.handle
        for record in records:
            handle(record)
        if normaliser.resyncs or not all(sync.live for sync in normaliser.books().values()):
            raise RuntimeError(f"{exchange}: a book resynced on the recorded frames; the figure would not be of applied updates")

    updates = sum(1 for record in records if record.kind is FrameKind.WEBSOCKET)  # the REST snapshot is not an update
    return measure(name, updates, one_pass, runs, seconds)


# -- (b) the whole pipeline ---------------------------------------------------------------------------------


def measure_pipeline(instruments_per_exchange: int, rate: float, warmup_s: float, window_s: float, normalisers: int) -> Any:
    """Part (b), in :mod:`benchmarks.market_data_pipeline` (it starts the embedded stack, the simulator and the deployment)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from market_data_pipeline import measure_pipeline as measure

    figures = measure(instruments_per_exchange, rate, warmup_s, window_s, normalisers)
    print(
        f"pipeline: {figures.events_per_second:,.0f} canonical events/s from {figures.frames_per_second:,.0f} raw frames/s "
        f"over {figures.window_s:.0f} s; {figures.stored_trades_per_second:,.0f} trades/s stored; normaliser lag "
        f"{figures.lag_start:,} at the start, {figures.lag_end:,} at the end, {figures.lag_max:,} at most; "
        f"receive -> produce p50 {figures.p50_ms:.2f} ms, p99 {figures.p99_ms:.2f} ms",
        flush=True,
    )
    print(f"pipeline CPU us per raw frame: {json.dumps(figures.cpu_us_per_frame)}", flush=True)
    return figures


def measure_parsing(arguments: argparse.Namespace) -> dict[str, Any]:
    """Part (a), pinned to one CPU."""
    print(f"pinned to CPU {pin_to_one_cpu()}; {arguments.runs} runs of {arguments.seconds} CPU seconds per workload", flush=True)
    instruments = binance_instruments()
    workloads = trade_workloads(instruments)
    ours = binance_trades(instruments, workloads, arguments.runs, arguments.seconds)
    theirs = cryptofeed_trades(arguments.cryptofeed_python, workloads, arguments.runs, arguments.seconds)
    ratios = {name: ours[name].median / theirs[name].median for name in COMPARED_WORKLOADS}
    for name, ratio in ratios.items():
        print(f"ours / cryptofeed, {name}: {ratio:.2f}x", flush=True)
    books = book_updates(arguments.runs, arguments.seconds)
    return {
        "parse_binance_trades_mps": round(min(figure.median for figure in ours.values())),
        "cryptofeed_binance_trades_mps": round(theirs[REAL_AGG_TRADES].median),
        "binance_trades_vs_cryptofeed": round(min(ratios.values()), 2),
        "parse_book_updates_mps": round(min(figure.median for figure in books.values())),
        "parse_binance_trades_mps_by_workload": {name: round(figure.median) for name, figure in ours.items()},
        "parse_book_updates_mps_by_exchange": {name: round(figure.median) for name, figure in books.items()},
    }


# -- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--runs", type=int, default=5)
    options.add_argument("--seconds", type=float, default=0.5, help="CPU seconds per run")
    options.add_argument("--cryptofeed-python", type=Path, default=REPO / ".venv-bench" / "bin" / "python")
    options.add_argument("--pipeline", action="store_true", help="also measure part (b), the whole pipeline")
    options.add_argument("--instruments-per-exchange", type=int, default=1000)
    options.add_argument("--rate", type=float, default=6000, help="the simulator's order-flow events/s (part b)")
    options.add_argument("--warmup", type=float, default=60, help="seconds before measuring (part b)")
    options.add_argument("--window", type=float, default=60, help="seconds measured (part b)")
    options.add_argument("--pipeline-only", action="store_true", help="measure part (b) only")
    options.add_argument(
        "--normalisers", type=int, default=2, help="normaliser daemons (part b); 0: the normaliser chained into ingestion"
    )
    options.add_argument("--cryptofeed-worker", type=Path, help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.cryptofeed_worker is not None:
        run_cryptofeed_worker(arguments.cryptofeed_worker, arguments.runs, arguments.seconds)
        return

    sys.path.insert(0, str(REPO))  # the recorded payloads are read with the tests' capture reader
    results: dict[str, Any] = {}
    if not arguments.pipeline_only:
        results = measure_parsing(arguments)
    pipeline = (
        measure_pipeline(
            arguments.instruments_per_exchange, arguments.rate, arguments.warmup, arguments.window, arguments.normalisers
        )
        if arguments.pipeline or arguments.pipeline_only
        else None
    )
    results |= {
        "pipeline_eps": round(pipeline.events_per_second) if pipeline else None,
        "p50_ms": round(pipeline.p50_ms, 3) if pipeline else None,
        "p99_ms": round(pipeline.p99_ms, 3) if pipeline else None,
    }
    if pipeline:
        results |= {
            "pipeline_frames_per_s": round(pipeline.frames_per_second),
            "pipeline_stored_trades_per_s": round(pipeline.stored_trades_per_second),
            "pipeline_lag": {"start": pipeline.lag_start, "end": pipeline.lag_end, "max": pipeline.lag_max},
            "pipeline_cpu_us_per_frame": pipeline.cpu_us_per_frame,
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
