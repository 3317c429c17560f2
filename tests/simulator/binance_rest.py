"""Plain HTTP calls to the simulated Binance for the tests, signed the way Binance documents (urllib, no SDK)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET


@dataclass(frozen=True)
class Reply:
    """Status, headers and decoded JSON body of one HTTP reply."""

    status: int
    headers: dict[str, str]
    body: Any


def call(
    base_url: str,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    signed: bool = False,
    api_key: str | None = DEFAULT_API_KEY,
    secret: str = DEFAULT_API_SECRET,
    timestamp_ms: int | None = None,
    signature: str | None = None,
) -> Reply:
    """One request; signed ones get ``timestamp`` and an HMAC-SHA256 ``signature`` of the query string."""
    query = dict(params or {})
    if signed:
        query["timestamp"] = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    text = urllib.parse.urlencode(query)
    if signed:
        digest = signature or hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        text = f"{text}&signature={digest}"
    request = urllib.request.Request(f"{base_url}{path}?{text}" if text else f"{base_url}{path}", method=method)
    if api_key is not None:
        request.add_header("X-MBX-APIKEY", api_key)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), json.loads(error.read() or b"null"))
