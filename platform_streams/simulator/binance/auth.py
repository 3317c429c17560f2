"""API-key and HMAC-SHA256 checks of Binance's SIGNED and USER_STREAM endpoints.

``totalParams`` is the query string concatenated with the body (no separator),
without the ``signature`` parameter; the signature is its HMAC-SHA256 under the
account's secret, hex, compared case-insensitively. The timestamp must not be more
than 1 s ahead of the server and not older than ``recvWindow`` (default 5000 ms).
Server time here is the wall clock: clients sign with theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from platform_streams.simulator.binance import errors
from platform_streams.simulator.binance.params import RequestParams
from platform_streams.simulator.matching.accounts import Account, AccountRegistry

_API_KEY_FORMAT = re.compile(r"[A-Za-z0-9]{1,128}")
DEFAULT_RECV_WINDOW_MS = 5000


def account_for_key(api_key: str | None, accounts: AccountRegistry) -> Account:
    """The account of an ``X-MBX-APIKEY`` header: -2014 if missing or malformed, -2015 if unknown."""
    if not api_key or _API_KEY_FORMAT.fullmatch(api_key) is None:
        raise errors.api_key_format_invalid()
    account = accounts.get(api_key)
    if account is None:
        raise errors.api_key_rejected()
    return account


def _without_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if not part.startswith("signature=")) if raw else ""


def verify_signed_request(account: Account, params: RequestParams, server_ms: int, max_recv_window_ms: int) -> None:
    """Check signature, then timestamp against ``recvWindow``; raises the matching Binance error."""
    signature = params.required_text("signature")
    total = _without_signature(params.raw_query) + _without_signature(params.raw_body)
    expected = hmac.new(account.secret, total.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise errors.invalid_signature()
    timestamp = params.required_integer("timestamp")
    recv_window = params.integer("recvWindow")
    recv_window = DEFAULT_RECV_WINDOW_MS if recv_window is None else recv_window
    if recv_window > max_recv_window_ms:
        raise errors.recv_window_too_large()
    if timestamp >= server_ms + 1000:
        raise errors.timestamp_ahead()
    if server_ms - timestamp > recv_window:
        raise errors.timestamp_outside_recv_window()
