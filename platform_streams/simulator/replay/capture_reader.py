"""Reads the capture format of ``data/exchanges/`` (one JSON object per line, the frame verbatim and last).

``dir`` says what a line is: ``connect`` opens a connection (with its ``url``), ``in``
and ``out`` are frames received and sent on the current connection, ``rest`` a REST
body, ``header`` the crossbook start line. Receive times come from ``ts`` (seconds),
``ts_ns`` or ``ts_mono_ns``. The frame text is cut out of the line, never re-encoded:
``line[line.index('"frame":') + 8 : -1]``. The exchange comes from the URLs, else
from the directory the file is in. A Binance depth snapshot recorded without its URL
is served at ``/api/v3/depth`` for the file's one symbol.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from platform_streams.simulator.replay.recording import (
    IN,
    OUT,
    RecordedConnection,
    RecordedFrame,
    RecordedRest,
    Recording,
    ReplayError,
    rest_target,
)

log = logging.getLogger(__name__)

KNOWN_EXCHANGES = ("binance", "okx", "kraken", "coinbase")
_HOST_NAMES = {"binance": "binance", "okx": "okx", "okex": "okx", "kraken": "kraken", "coinbase": "coinbase"}
_STREAM_SYMBOL = re.compile(rb'\{"stream":"([a-z0-9]+)@')


def _open(path: Path) -> TextIO:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def exchange_of_url(url: str) -> str | None:
    host = urlsplit(url).hostname or ""
    return next((name for key, name in _HOST_NAMES.items() if key in host), None)


def _time_ns(record: dict[str, Any], mono_offset_ns: int) -> int | None:
    if "ts_ns" in record:
        return int(record["ts_ns"])
    if "ts_mono_ns" in record:
        return int(record["ts_mono_ns"]) + mono_offset_ns
    if "ts" in record:
        return round(float(record["ts"]) * 1e9)
    return None


def _normalised_path(exchange: str, path: str) -> str:
    if exchange == "binance" and path.startswith("/api/v1/"):
        return "/api/v3/" + path[len("/api/v1/") :]  # the source rewrote the API version in its URL text
    return path


class _CaptureFile:
    """State while reading one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.directory_exchange = path.parent.name if path.parent.name in KNOWN_EXCHANGES else None
        self.exchange: str | None = None
        self.current: RecordedConnection | None = None
        self.connections: list[RecordedConnection] = []
        self.rest: list[tuple[int, str | None, bytes]] = []
        self.symbols: set[bytes] = set()
        self.mono_offset_ns = 0

    def connection(self) -> RecordedConnection:
        if self.current is None:
            self.current = RecordedConnection(exchange="", source=f"{self.path.name}#{len(self.connections)}")
            self.connections.append(self.current)
        return self.current

    def read_line(self, line: str) -> None:
        record: dict[str, Any] = json.loads(line)
        cut = line.find('"frame":') if record.pop("frame", None) is not None else -1
        frame = line[cut + 8 : -1].encode() if cut >= 0 else b""
        direction = record.get("dir")
        url = record.get("url")
        if url and self.exchange is None:
            self.exchange = exchange_of_url(url)
        if direction == "header":
            venue = str(record.get("cbcap", "")).split()
            if len(venue) >= 4:
                self.exchange = self.exchange or (venue[1] if venue[1] in KNOWN_EXCHANGES else None)
                self.mono_offset_ns = int(venue[3])
            return
        time_ns = _time_ns(record, self.mono_offset_ns)
        if time_ns is None:
            raise ReplayError(f"{self.path}: a line without a receive time: {line[:120]}")
        if direction == "connect":
            parts = urlsplit(url or "")
            self.current = RecordedConnection(
                exchange="",
                source=f"{self.path.name}#{len(self.connections)}",
                path=parts.path or "/",
                query=parts.query,
                opened_ns=time_ns,
            )
            self.connections.append(self.current)
        elif direction in (IN, OUT):
            self.connection().frames.append(RecordedFrame(time_ns, direction, frame))
            if direction == IN and (match := _STREAM_SYMBOL.match(frame)):
                self.symbols.add(match.group(1))
        elif direction == "rest":
            self.rest.append((time_ns, url, frame))

    def finish(self) -> Recording:
        exchange = self.exchange or self.directory_exchange
        if exchange is None:
            raise ReplayError(f"{self.path}: cannot tell which exchange it recorded (no URL, not in an exchange's directory)")
        recording = Recording()
        for connection in self.connections:
            connection.exchange = exchange
            recording.connections.append(connection)
        for time_ns, url, body in self.rest:
            target = self._rest_target(exchange, url, body)
            if target is not None:
                path, parameters = target
                recording.rest.append(RecordedRest(exchange, time_ns, _normalised_path(exchange, path), parameters, body))
        return recording

    def _rest_target(self, exchange: str, url: str | None, body: bytes) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        if url:
            return rest_target(url)
        if exchange == "binance" and body.startswith(b'{"lastUpdateId"') and len(self.symbols) == 1:
            return "/api/v3/depth", (("symbol", next(iter(self.symbols)).decode().upper()),)
        log.warning("skipping a REST body recorded without its URL", extra={"file": str(self.path)})
        return None


def read_capture(path: Path) -> Recording:
    """Every connection and REST body of one capture file."""
    state = _CaptureFile(path)
    try:
        with _open(path) as lines:
            for line in lines:
                line = line.rstrip("\n")
                if line:
                    state.read_line(line)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{path}: not a readable capture: {exc}") from None
    return state.finish()
