"""Kraken's private REST authentication: ``API-Key``, ``API-Sign`` and the nonce.

``API-Sign`` is base64(HMAC-SHA512(base64-decoded secret, uri_path + SHA256(nonce + postdata))).
The secret a Kraken client holds is base64 text; an account's secret here is the
decoded key, so a client configures ``client_secret(account_secret)``. The nonce
must rise with every call of an API key (a nonce window of 0, Kraken's default).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from platform_streams.simulator.kraken import errors
from platform_streams.simulator.kraken.rest import KrakenRestError
from platform_streams.simulator.matching.accounts import Account, AccountRegistry


def client_secret(account_secret: str) -> str:
    """The base64 API secret a Kraken client (ccxt ``secret``) uses for an account with this secret."""
    return base64.b64encode(account_secret.encode()).decode()


def expected_signature(key: bytes, uri_path: str, nonce: str, post_data: str) -> str:
    digest = hashlib.sha256((nonce + post_data).encode()).digest()
    return base64.b64encode(hmac.new(key, uri_path.encode() + digest, hashlib.sha512).digest()).decode()


class NonceKeeper:
    """The last nonce each API key used."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def accept(self, api_key: str, nonce_text: str) -> None:
        if not nonce_text.isdigit() or int(nonce_text) <= self._last.get(api_key, 0):
            raise KrakenRestError(errors.INVALID_NONCE)
        self._last[api_key] = int(nonce_text)


def authenticate(
    headers: Mapping[str, str], uri_path: str, nonce: str, post_data: str, accounts: AccountRegistry, nonces: NonceKeeper
) -> Account:
    """The account of a private call; raises ``EAPI:Invalid key`` / ``EAPI:Invalid signature`` / ``EAPI:Invalid nonce``."""
    account = accounts.get(headers.get("API-Key", ""))
    if account is None:
        raise KrakenRestError(errors.INVALID_KEY)
    sent = headers.get("API-Sign", "")
    if not hmac.compare_digest(expected_signature(account.secret, uri_path, nonce, post_data), sent):
        raise KrakenRestError(errors.INVALID_SIGNATURE)
    nonces.accept(account.api_key, nonce)
    return account
