"""Client events on a Kraken v1 connection: ``subscribe``, ``unsubscribe`` and ``ping``, answered as Kraken does.

A subscription names pairs by wsname (``XBT/USD``) and a subscription object
(``{"name":"book","depth":10}``); each pair gets its own ``subscriptionStatus``
(``subscribed``/``unsubscribed``, or ``error`` with Kraken's ``errorMessage``), with
the client's ``reqid`` echoed. A book subscription's snapshot follows its reply.
Unsubscribing by ``channelID`` works too.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from platform_streams.simulator.kraken import frames
from platform_streams.simulator.kraken.channels import (
    BOOK_DEPTHS,
    OHLC_INTERVALS_MIN,
    SLOT,
    SUBSCRIPTIONS,
    Subscription,
    channel_id,
    from_channel_id,
)
from platform_streams.simulator.kraken.hub import KrakenHub
from platform_streams.simulator.kraken.pairs import KrakenPairs
from platform_streams.simulator.kraken.subscriptions import KrakenConnection

# one-letter assets exist (Kraken lists W/USD and T/USD), so a side is 1 to 10 characters
_ISO_PAIR = re.compile(r"^[A-Z0-9]{1,10}/[A-Z0-9]{1,10}$")


class _SubscriptionRejected(Exception):
    """A subscription object Kraken would refuse, with its errorMessage."""


class KrakenEvents:
    """Answers the client events of one venue's connections."""

    def __init__(self, hub: KrakenHub, pairs: KrakenPairs) -> None:
        self._hub = hub
        self._pairs = pairs

    def greeting(self, connection: KrakenConnection) -> bytes:
        """The ``systemStatus`` event a connection gets before anything else."""
        return frames.system_status(connection.connection_number)

    def handle(self, connection: KrakenConnection, text: str, now_ns: int) -> list[bytes]:
        """The frames to send in answer to one text frame, in order."""
        now_ms = now_ns // 1_000_000
        try:
            body: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [frames.error("Malformed request")]
        if not isinstance(body, dict) or "event" not in body:
            return [frames.error("Malformed request")]
        request_id = body.get("reqid") if isinstance(body.get("reqid"), int) else None
        event = body["event"]
        if event == "ping":
            return [frames.pong(request_id)]
        if event not in ("subscribe", "unsubscribe"):
            return [frames.error("Unsupported event")]
        raw_subscription = body.get("subscription")
        if event == "unsubscribe" and isinstance(body.get("channelID"), int):
            return self._unsubscribe_channel(connection, body["channelID"], request_id)
        try:
            subscription = self._subscription(raw_subscription)
        except _SubscriptionRejected as exc:
            shown = raw_subscription if isinstance(raw_subscription, dict) else {}
            return [frames.subscription_status(None, None, None, request_id, "error", shown, str(exc))]
        names = body.get("pair")
        if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
            return [
                frames.subscription_status(None, None, None, request_id, "error", subscription.as_json(), "Pair(s) not found")
            ]
        return [frame for name in names for frame in self._one(connection, event, subscription, name, request_id, now_ms)]

    @staticmethod
    def _subscription(raw: object) -> Subscription:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise _SubscriptionRejected("Subscription name invalid")
        name = raw["name"]
        if name == "book":
            depth = raw.get("depth", 10)
            if depth not in BOOK_DEPTHS:
                raise _SubscriptionRejected("Subscription depth not supported")
            return Subscription("book", depth)
        if name == "ohlc":
            interval = raw.get("interval", 1)
            if interval not in OHLC_INTERVALS_MIN:
                raise _SubscriptionRejected("Subscription ohlc interval not supported")
            return Subscription("ohlc", interval)
        if name in ("trade", "ticker"):
            return Subscription(name)
        raise _SubscriptionRejected("Subscription name invalid")

    def _one(
        self, connection: KrakenConnection, event: str, subscription: Subscription, name: str, request_id: int | None, now_ms: int
    ) -> list[bytes]:
        shown = subscription.as_json()
        if not _ISO_PAIR.match(name):
            return [
                frames.subscription_status(
                    None, None, name, request_id, "error", shown, f"Currency pair not in ISO 4217-A3 format {name}"
                )
            ]
        instrument = self._pairs.by_wsname(name)
        if instrument is None:
            return [
                frames.subscription_status(None, None, name, request_id, "error", shown, f"Currency pair not supported {name}")
            ]
        slot = SLOT[subscription]
        subscribed = (slot, instrument) in connection.subscriptions
        number, channel = channel_id(instrument, slot), subscription.channel_name
        if event == "unsubscribe":
            if not subscribed:
                return [frames.subscription_status(None, None, name, request_id, "error", shown, "Subscription Not Found")]
            self._hub.unsubscribe(connection, slot, instrument)
            return [frames.subscription_status(number, channel, name, request_id, "unsubscribed", shown)]
        if subscribed:
            return [frames.subscription_status(None, None, name, request_id, "error", shown, "Already subscribed")]
        snapshot = self._hub.subscribe(connection, slot, instrument, now_ms)
        reply = frames.subscription_status(number, channel, name, request_id, "subscribed", shown)
        return [reply] if snapshot is None else [reply, snapshot]

    def _unsubscribe_channel(self, connection: KrakenConnection, number: int, request_id: int | None) -> list[bytes]:
        instrument, slot = from_channel_id(number)
        if (slot, instrument) not in connection.subscriptions:
            return [frames.subscription_status(None, None, None, request_id, "error", {}, "Subscription Not Found")]
        subscription = SUBSCRIPTIONS[slot]
        self._hub.unsubscribe(connection, slot, instrument)
        return [
            frames.subscription_status(
                number,
                subscription.channel_name,
                self._pairs.wsnames[instrument],
                request_id,
                "unsubscribed",
                subscription.as_json(),
            )
        ]
