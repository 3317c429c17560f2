"""Plain HTTP calls to the simulated Kraken's private REST for the tests, signed the way Kraken documents (urllib)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET
from platform_streams.simulator.kraken.auth import client_secret

_NONCES = itertools.count(time.time_ns() // 1000)


def kraken_sign(secret_b64: str, uri_path: str, nonce: str, post_data: str) -> str:
    digest = hashlib.sha256((nonce + post_data).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def kraken_call(
    base_url: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    api_key: str = DEFAULT_API_KEY,
    secret: str | None = None,
    nonce: int | None = None,
) -> dict[str, Any]:
    """``POST /0/private/<method>`` with a form body; returns the decoded ``{"error": [...], "result": ...}``."""
    path = f"/0/private/{method}"
    nonce_text = str(next(_NONCES) if nonce is None else nonce)
    body = urllib.parse.urlencode({"nonce": nonce_text, **(params or {})})
    request = urllib.request.Request(f"{base_url}{path}", data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("API-Key", api_key)
    request.add_header("API-Sign", kraken_sign(secret or client_secret(DEFAULT_API_SECRET), path, nonce_text, body))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"null")
