"""What a replayed exchange says to the messages a client sends during a replay.

The recording carries the exchange's answers to the recorder's own requests, so
subscriptions are not re-answered; but keepalives are, or a client would give up
on a healthy replay: OKX's text ``ping`` gets ``pong``, Kraken's ``ping`` event gets
its ``pong``. Coinbase's feed only starts on a ``subscribe`` message: anything else
first gets Coinbase's error frame.
"""

from __future__ import annotations

from typing import Any

import orjson


def reply_to(exchange: str, text: str) -> bytes | None:
    """The frame the exchange would answer ``text`` with outside the recording, or None."""
    if exchange == "okx" and text == "ping":
        return b"pong"
    if exchange not in ("kraken", "coinbase"):
        return None
    try:
        body: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        body = None
    if exchange == "kraken" and isinstance(body, dict) and body.get("event") == "ping":
        return orjson.dumps({"event": "pong", "reqid": body["reqid"]} if "reqid" in body else {"event": "pong"})
    return None


def starts_feed(exchange: str, text: str) -> tuple[bool, bytes | None]:
    """Whether a client's message starts the replay of what followed the recorder's first request, and any error."""
    if exchange != "coinbase":
        return True, None
    try:
        body: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False, orjson.dumps({"type": "error", "message": "Malformed JSON", "reason": "invalid character"})
    if not isinstance(body, dict) or body.get("type") != "subscribe":
        reason = "Type has to be either subscribe or unsubscribe"
        return False, orjson.dumps({"type": "error", "message": "Failed to subscribe", "reason": reason})
    return True, None
