"""OKX v5 request signing: the OK-ACCESS-* headers of REST calls and the ``login`` op of the private WebSocket.

REST: ``OK-ACCESS-SIGN`` is base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)), where
requestPath includes the query string and ``OK-ACCESS-TIMESTAMP`` is ISO 8601 with milliseconds
(``2020-12-08T09:08:57.715Z``) within 30 s of the server. WebSocket login signs
timestamp (Unix seconds) + ``GET/users/self/verify`` the same way.
Server time here is the wall clock: clients sign with theirs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from platform_streams.simulator.matching.accounts import Account, AccountRegistry
from platform_streams.simulator.okx.errors import OkxRestError

_UNAUTHORIZED = 401


def signature(secret: bytes, prehash: str) -> str:
    """OKX's base64 HMAC-SHA256 of the prehash string."""
    return base64.b64encode(hmac.new(secret, prehash.encode(), hashlib.sha256).digest()).decode()


def authenticate_rest(
    headers: Mapping[str, str],
    method: str,
    request_path: str,
    body: str,
    accounts: AccountRegistry,
    now_s: float,
    max_skew_s: float,
) -> Account:
    """The account of a signed REST request; raises the OKX error (HTTP 401) for what is missing or wrong."""
    key, sign = headers.get("OK-ACCESS-KEY"), headers.get("OK-ACCESS-SIGN")
    timestamp, passphrase = headers.get("OK-ACCESS-TIMESTAMP"), headers.get("OK-ACCESS-PASSPHRASE")
    if not key:
        raise OkxRestError("50103", "Request header OK-ACCESS-KEY can not be empty.", _UNAUTHORIZED)
    if not passphrase:
        raise OkxRestError("50104", "Request header OK-ACCESS-PASSPHRASE can not be empty.", _UNAUTHORIZED)
    if not sign:
        raise OkxRestError("50106", "Request header OK-ACCESS-SIGN can not be empty.", _UNAUTHORIZED)
    if not timestamp:
        raise OkxRestError("50107", "Request header OK-ACCESS-TIMESTAMP can not be empty.", _UNAUTHORIZED)
    account = accounts.get(key)
    if account is None:
        raise OkxRestError("50111", "Invalid OK-ACCESS-KEY.", _UNAUTHORIZED)
    sent_s = _iso_seconds(timestamp)
    if sent_s is None:
        raise OkxRestError("50112", "Invalid OK-ACCESS-TIMESTAMP.", _UNAUTHORIZED)
    if abs(now_s - sent_s) > max_skew_s:
        raise OkxRestError("50102", "Timestamp request expired.", _UNAUTHORIZED)
    if not hmac.compare_digest(passphrase, account.passphrase):
        raise OkxRestError("50105", "Request header OK-ACCESS-PASSPHRASE incorrect.", _UNAUTHORIZED)
    expected = signature(account.secret, f"{timestamp}{method}{request_path}{body}")
    if not hmac.compare_digest(expected, sign):
        raise OkxRestError("50113", "Invalid Sign.", _UNAUTHORIZED)
    return account


def _iso_seconds(text: str) -> float | None:
    if not text.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00").timestamp()
    except ValueError:
        return None


class LoginRefused(Exception):
    """A WebSocket ``login`` refused: OKX's error code and message."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg = code, msg


def authenticate_login(arg: object, accounts: AccountRegistry, now_s: float, max_skew_s: float) -> Account:
    """The account of one ``login`` argument ``{apiKey, passphrase, timestamp, sign}``; raises :class:`LoginRefused`."""
    if not isinstance(arg, dict) or not all(isinstance(arg.get(k), str) for k in ("apiKey", "passphrase", "timestamp", "sign")):
        raise LoginRefused("60009", "Login failed.")
    account = accounts.get(arg["apiKey"])
    if account is None:
        raise LoginRefused("60005", "Invalid OK-ACCESS-KEY")
    try:
        sent_s = float(arg["timestamp"])
    except ValueError:
        raise LoginRefused("60004", "Invalid timestamp") from None
    if abs(now_s - sent_s) > max_skew_s:
        raise LoginRefused("60004", "Invalid timestamp")
    if not hmac.compare_digest(arg["passphrase"], account.passphrase):
        raise LoginRefused("60024", "Wrong passphrase")
    expected = signature(account.secret, f"{arg['timestamp']}GET/users/self/verify")
    if not hmac.compare_digest(expected, arg["sign"]):
        raise LoginRefused("60007", "Invalid sign")
    return account
