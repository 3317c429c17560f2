"""Plain HTTP calls to the simulated OKX's private REST for the tests, signed the way OKX documents (urllib, no SDK)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_PASSPHRASE, DEFAULT_API_SECRET
from tests.simulator.binance_rest import Reply


def iso_timestamp(at_s: float | None = None) -> str:
    """``2020-12-08T09:08:57.715Z``: OK-ACCESS-TIMESTAMP's format."""
    moment = datetime.fromtimestamp(time.time() if at_s is None else at_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sign(secret: str, prehash: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def okx_call(
    base_url: str,
    method: str,
    path: str,
    params: dict[str, Any] | list[dict[str, Any]] | None = None,
    *,
    api_key: str | None = DEFAULT_API_KEY,
    secret: str = DEFAULT_API_SECRET,
    passphrase: str | None = DEFAULT_API_PASSPHRASE,
    timestamp: str | None = None,
) -> Reply:
    """One signed request: GET parameters go in the query string, others in a JSON body."""
    request_path, body = path, ""
    if method == "GET" and params:
        request_path = f"{path}?{urllib.parse.urlencode(params)}"
    elif params is not None:
        body = json.dumps(params)
    stamp = timestamp or iso_timestamp()
    request = urllib.request.Request(f"{base_url}{request_path}", data=body.encode() if body else None, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("OK-ACCESS-SIGN", sign(secret, f"{stamp}{method}{request_path}{body}"))
    request.add_header("OK-ACCESS-TIMESTAMP", stamp)
    if api_key is not None:
        request.add_header("OK-ACCESS-KEY", api_key)
    if passphrase is not None:
        request.add_header("OK-ACCESS-PASSPHRASE", passphrase)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), json.loads(error.read() or b"null"))
