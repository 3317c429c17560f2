"""Requests on an OKX public WebSocket: ``subscribe`` / ``unsubscribe`` ops, answered as OKX answers them.

Each argument is acknowledged on its own (``{"event":"subscribe","arg":{...},"connId":...}``,
with the request's ``id`` echoed first when one was sent). Errors are OKX's error
events: 60012 for a request that is not valid JSON or lacks ``op``/``args``, 60019
for an unknown op, 60018 for a channel or instId that does not exist, 60014 when
a connection sends more subscribe/unsubscribe requests than allowed.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from platform_streams.simulator.config import OkxWebSocketLimits
from platform_streams.simulator.okx import frames
from platform_streams.simulator.okx.channels import CHANNEL_BY_NAME, OkxConnection
from platform_streams.simulator.okx.hub import OkxHub
from platform_streams.simulator.okx.instruments import OkxInstruments

_OPS = ("subscribe", "unsubscribe")


class OkxRequests:
    """Answers the text frames of one venue's connections."""

    def __init__(self, hub: OkxHub, instruments: OkxInstruments, limits: OkxWebSocketLimits) -> None:
        self._hub = hub
        self._instruments = instruments
        self._limits = limits

    def handle(self, connection: OkxConnection, text: str) -> list[bytes]:
        """The replies to one text frame, in order."""
        if text == "ping":
            return [b"pong"]
        conn_id = connection.conn_id
        try:
            body: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [frames.error("60012", f"Invalid request: {text}", conn_id, None)]
        if not isinstance(body, dict):
            return [frames.error("60012", f"Invalid request: {text}", conn_id, None)]
        request_id = body.get("id")
        request_id = str(request_id) if request_id is not None else None
        op = body.get("op")
        if op is None or "args" not in body:
            return [frames.error("60012", f"Invalid request: {text}", conn_id, request_id)]
        if op not in _OPS:
            return [frames.error("60019", f"Invalid op: {op}", conn_id, request_id)]
        limits = self._limits
        if connection.count_request(time.monotonic(), limits.subscription_interval_s) > limits.subscription_requests:
            return [frames.error("60014", "Requests too frequent.", conn_id, request_id)]
        args = body["args"]
        if not isinstance(args, list) or not args:
            return [frames.error("60012", f"Invalid request: {text}", conn_id, request_id)]
        return [self._one(connection, op, arg, text, request_id) for arg in args]

    def _one(self, connection: OkxConnection, op: str, arg: object, text: str, request_id: str | None) -> bytes:
        conn_id = connection.conn_id
        if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
            return frames.error("60012", f"Invalid request: {text}", conn_id, request_id)
        name, inst_id = arg["channel"], arg.get("instId")
        channel = CHANNEL_BY_NAME.get(name)
        instrument = self._instruments.lookup(inst_id) if isinstance(inst_id, str) else None
        if channel is None or instrument is None:
            return frames.error(
                "60018",
                f"Wrong URL or channel:{name},instId:{inst_id} doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
                conn_id,
                request_id,
            )
        if op == "subscribe":
            self._hub.subscribe(connection, channel, instrument)
        else:
            self._hub.unsubscribe(connection, channel, instrument)
        return frames.event(op, name, inst_id, conn_id, request_id)
