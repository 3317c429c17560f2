"""Binance user data streams: listenKeys, and the executionReport / outboundAccountPosition events.

An account has at most one active listenKey (creating one again returns it and
extends it); a key lives ``ttl_s`` after its last keepalive. Every order change and
balance change the matching engine reports is rendered and pushed at once to the
connections listening on the account's key (``/ws/<listenKey>`` or
``/stream?streams=<listenKey>``).
"""

from __future__ import annotations

import secrets
import time

import orjson

from platform_streams.simulator.binance import errors, order_json
from platform_streams.simulator.binance.stream_hub import StreamHub
from platform_streams.simulator.binance.streams import BinanceSymbols, Channel
from platform_streams.simulator.market.universe import Instrument
from platform_streams.simulator.matching.accounts import Account
from platform_streams.simulator.matching.orders import ExecutionType, Fill, Order


class ListenKeys:
    """Active listenKeys: key → (account API key, expiry on the monotonic clock)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._keys: dict[str, tuple[str, float]] = {}

    def create(self, account: Account) -> str:
        for key, (owner, _) in self._keys.items():
            if owner == account.api_key and self.is_valid(key):
                self._keys[key] = (owner, time.monotonic() + self.ttl_s)
                return key
        key = secrets.token_hex(32)
        self._keys[key] = (account.api_key, time.monotonic() + self.ttl_s)
        return key

    def keepalive(self, account: Account, key: str) -> None:
        if not self._owned(account, key):
            raise errors.invalid_listen_key()
        self._keys[key] = (account.api_key, time.monotonic() + self.ttl_s)

    def close(self, account: Account, key: str) -> None:
        if not self._owned(account, key):
            raise errors.invalid_listen_key()
        del self._keys[key]

    def _owned(self, account: Account, key: str) -> bool:
        entry = self._keys.get(key)
        return entry is not None and entry[0] == account.api_key and self.is_valid(key)

    def is_valid(self, key: str) -> bool:
        entry = self._keys.get(key)
        return entry is not None and time.monotonic() < entry[1]

    def key_of(self, account: Account) -> str | None:
        for key, (owner, _) in self._keys.items():
            if owner == account.api_key and self.is_valid(key):
                return key
        return None

    def expire(self) -> list[str]:
        """Forget expired keys; returns them."""
        expired = [key for key in self._keys if not self.is_valid(key)]
        for key in expired:
            del self._keys[key]
        return expired


class BinanceUserStream:
    """Renders the matching engine's events as Binance user data stream events (an ``OrderEventSink``)."""

    def __init__(
        self, hub: StreamHub, listen_keys: ListenKeys, symbols: BinanceSymbols, instruments: tuple[Instrument, ...]
    ) -> None:
        self._hub = hub
        self._keys = listen_keys
        self._symbols = symbols
        self._instruments = instruments
        self._event_number = 0

    def on_execution(self, account: Account, order: Order, execution: ExecutionType, fill: Fill | None, time_ms: int) -> None:
        key = self._keys.key_of(account)
        if key is None:
            return
        self._event_number += 1
        symbol = self._symbols.names[order.instrument]
        report = order_json.execution_report(
            order, self._instruments[order.instrument], symbol, execution, fill, time_ms, self._event_number
        )
        self._hub.publish_user_event(key, Channel.EXECUTION_REPORT, order.instrument, order.order_id, orjson.dumps(report))

    def on_balances(self, account: Account, assets: list[str], time_ms: int) -> None:
        key = self._keys.key_of(account)
        if key is None:
            return
        event = order_json.account_position(account, assets, time_ms)
        account_row = len(self._instruments)  # the ground truth's "" symbol: the event is not about one instrument
        self._hub.publish_user_event(key, Channel.ACCOUNT_POSITION, account_row, time_ms, orjson.dumps(event))
