"""What a market data frame is, read from its bytes, so a fault can pick the frames it targets.

Only called while a frame fault is armed on the frame's exchange, so parsing every
frame then is affordable. Each exchange's reader returns the channel and symbol as
that exchange names them, the message's id on the wire and whether it is an
incremental book update (what a gap removes); frames that are not market data
(subscription replies, heartbeats, pongs) give None and are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """One market data frame as a fault sees it."""

    channel: str
    symbol: str
    event_id: int  # update id, seqId, trade id or (Kraken) checksum; -1 when the frame has none
    is_book_update: bool
    sequenced: bool  # the exchange numbers book updates (a skipped one shows as a jump in the ids)


FrameReader = Callable[[bytes], FrameInfo | None]

_BINANCE_EVENTS = {"trade": "trade", "aggTrade": "aggTrade", "depthUpdate": "depth", "kline": "kline_1m"}
_BINANCE_IDS = {"trade": "t", "aggTrade": "a", "depthUpdate": "u"}


def _parse(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None


def read_binance(payload: bytes) -> FrameInfo | None:
    body = _parse(payload)
    if not isinstance(body, dict):
        return None
    stream_symbol, channel = "", ""
    if "stream" in body and "data" in body:
        stream_symbol, _, channel = str(body["stream"]).partition("@")
        body = body["data"]
    if not isinstance(body, dict) or "result" in body or "error" in body:
        return None
    event = body.get("e")
    if not channel:
        channel = _BINANCE_EVENTS.get(str(event), "bookTicker" if "b" in body and "u" in body else "depth")
    symbol = str(body.get("s", stream_symbol)).upper()
    if event == "kline":
        event_id = int(body["k"]["t"])
    elif event in _BINANCE_IDS:
        event_id = int(body[_BINANCE_IDS[event]])
    else:
        event_id = int(body.get("u", body.get("lastUpdateId", -1)))
    return FrameInfo(channel, symbol, event_id, event == "depthUpdate", sequenced=True)


def read_okx(payload: bytes) -> FrameInfo | None:
    body = _parse(payload)
    if not isinstance(body, dict) or "event" in body or "data" not in body:
        return None
    arg, data = body.get("arg", {}), body["data"]
    channel, symbol = str(arg.get("channel", "")), str(arg.get("instId", ""))
    first = data[0] if isinstance(data, list) and data else {}
    event_id = -1
    if isinstance(first, dict):
        if "seqId" in first:
            event_id = int(first["seqId"])
        elif "tradeId" in first:
            event_id = int(first["tradeId"])
        elif "ts" in first:
            event_id = int(first["ts"])
    elif isinstance(first, list) and first:
        event_id = int(first[0])
    is_update = channel.startswith("books") and body.get("action") == "update"
    return FrameInfo(channel, symbol, event_id, is_update, sequenced=True)


def read_kraken(payload: bytes) -> FrameInfo | None:
    """v1's arrays, and v2's objects (the simulated Kraken serves both on one port)."""
    body = _parse(payload)
    if isinstance(body, dict):
        return _read_kraken_v2(body)
    if not isinstance(body, list) or len(body) < 4:
        return None
    channel, symbol = str(body[-2]), str(body[-1])
    parts = [part for part in body[1:-2] if isinstance(part, dict)]
    is_update = channel.startswith("book-") and bool(parts) and not any("as" in p or "bs" in p for p in parts)
    # only book frames carry a checksum "c" (a ticker's "c" is its last trade: [price, volume])
    checksum = next((p["c"] for p in parts if "c" in p), None) if channel.startswith("book-") else None
    return FrameInfo(channel, symbol, int(checksum) if checksum is not None else -1, is_update, sequenced=False)


def _read_kraken_v2(body: dict[str, Any]) -> FrameInfo | None:
    channel, data = body.get("channel"), body.get("data")
    if channel not in ("book", "trade", "ticker") or not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return None
    first = data[0]
    event_id = int(first.get("checksum", first.get("trade_id", -1)))
    return FrameInfo(
        str(channel), str(first.get("symbol", "")), event_id, channel == "book" and body.get("type") == "update", False
    )


def read_coinbase(payload: bytes) -> FrameInfo | None:
    body = _parse(payload)
    if not isinstance(body, dict) or "product_id" not in body:
        return None
    kind = str(body.get("type", ""))
    event_id = int(body.get("sequence", body.get("trade_id", -1)) or -1)
    return FrameInfo(kind, str(body["product_id"]), event_id, kind == "l2update", sequenced=False)


FRAME_READERS: dict[str, FrameReader] = {
    "binance": read_binance,
    "okx": read_okx,
    "kraken": read_kraken,
    "coinbase": read_coinbase,
}


def channel_matches(wanted: str, channel: str) -> bool:
    """``depth`` matches ``depth@100ms``, ``book`` matches ``book-10``: a channel or its family."""
    if wanted == channel:
        return True
    family = channel.split("@", 1)[0].split("-", 1)[0]
    return wanted == family or wanted.split("@", 1)[0] == family and "@" not in channel
