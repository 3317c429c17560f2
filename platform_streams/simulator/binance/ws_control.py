"""Live requests on a Binance stream connection: SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET/GET_PROPERTY.

Replies are ``{"result":null,"id":1}``; a bad request gets Binance's error shape
``{"error":{"code":2,"msg":"Invalid request: ..."},"id":1}`` with the codes and
messages of Binance's documentation (3 for invalid JSON, 2 for a malformed
request or an unknown stream, 1 for a non-boolean property value, 0 for an
unknown property).
"""

from __future__ import annotations

import json
import re

import orjson

from platform_streams.simulator.binance.stream_hub import StreamConnection, StreamHub

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_ALPHANUMERIC_ID = re.compile(r"[A-Za-z0-9]{1,36}")
_INT64 = 2**63


def _error(code: int, message: str, request_id: object) -> bytes:
    return orjson.dumps({"error": {"code": code, "msg": message}, "id": request_id})


def _result(result: object, request_id: object) -> bytes:
    return orjson.dumps({"result": result, "id": request_id})


def _valid_id(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    return isinstance(value, str) and _ALPHANUMERIC_ID.fullmatch(value) is not None


class ControlRequests:
    """Answers the control requests of one venue's stream connections."""

    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub

    def handle(self, connection: StreamConnection, text: str) -> bytes:
        """The reply to one text frame; subscribing past the stream limit raises ``TooManyStreams``."""
        try:
            request = json.loads(text)
        except json.JSONDecodeError as exc:
            return _error(3, f"Invalid JSON: expected value at line {exc.lineno} column {exc.colno}", None)
        if not isinstance(request, dict):
            return _error(2, f"Invalid request: invalid type: expected a map at line 1 column {len(text)}", None)
        request_id = request.get("id")
        if "method" not in request:
            return _error(2, f"Invalid request: missing field `method` at line 1 column {len(text)}", None)
        method = request["method"]
        if method not in _METHODS:
            column = text.find(json.dumps(method)) + len(json.dumps(method))
            expected = ", ".join(f"`{m}`" for m in _METHODS)
            return _error(
                2, f"Invalid request: unknown variant `{method}`, expected one of {expected} at line 1 column {column}", None
            )
        if "id" not in request or not _valid_id(request_id):
            return _error(2, "Invalid request: request ID must be an unsigned integer", None)
        if set(request) - {"method", "params", "id"}:
            return _error(2, "Invalid request: too many parameters", request_id)
        params = request.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return self._subscription(connection, method, params, request_id)
        if method == "LIST_SUBSCRIPTIONS":
            return _result(list(connection.streams), request_id)
        return self._property(connection, method, params, request_id)

    def _subscription(self, connection: StreamConnection, method: str, params: object, request_id: object) -> bytes:
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return _error(2, "Invalid request: invalid stream", request_id)
        if method == "UNSUBSCRIBE":
            self._hub.unsubscribe(connection, params)
            return _result(None, request_id)
        if not all(self._hub.is_stream(name) for name in params):
            return _error(2, "Invalid request: invalid stream", request_id)
        self._hub.subscribe(connection, params)
        return _result(None, request_id)

    @staticmethod
    def _property(connection: StreamConnection, method: str, params: object, request_id: object) -> bytes:
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            return _error(2, "Invalid request: property name must be a string", request_id)
        if params[0] != "combined":
            return _error(0, "Unknown property", request_id)
        if method == "GET_PROPERTY":
            return _result(connection.combined, request_id)
        if len(params) != 2 or not isinstance(params[1], bool):
            return _error(1, "Invalid value type: expected Boolean", request_id)
        connection.combined = params[1]
        return _result(None, request_id)
