"""Typed configuration of the exchange simulator, validated once at start.

Defaults are the real exchanges' limits, so a client that behaves against the
simulator behaves against the exchange; tests shrink them to exercise the limits
in milliseconds. ``rate`` is the long-run mean of order-flow arrivals per second
over all exchanges (each arrival is one taker order, limit add or cancel; the
messages they produce — trades, book diffs, tickers — are counted by the ground
truth and the benchmark).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from platform_streams.settings import ConfigError, convert_settings
from platform_streams.simulator.matching.accounts import AccountSpec

Positive = Annotated[int, msgspec.Meta(ge=1)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]

#: The account a simulator has when none is configured (ccxt: ``apiKey``/``secret``).
DEFAULT_API_KEY = "simulatorApiKey"
DEFAULT_API_SECRET = "simulatorApiSecret"
DEFAULT_API_PASSPHRASE = "simulatorPassphrase"  # OKX's third credential (ccxt: ``password``)
DEFAULT_BALANCES = {
    "USDT": "1000000",
    "USDC": "1000000",
    "FDUSD": "1000000",
    "BTC": "10",
    "ETH": "100",
    "BNB": "1000",
    "EUR": "1000000",
    "TRY": "10000000",
}


class WebSocketLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Limits on one exchange's WebSocket connections (Binance spot's values by default)."""

    max_streams_per_connection: Positive = 1024
    max_incoming_per_second: Positive = 5  # PING, PONG and JSON requests all count; beyond: disconnect
    connection_attempts: Positive = 300  # per IP per connection_interval_s; beyond: HTTP 429 on the upgrade
    connection_interval_s: PositiveFloat = 300.0
    ping_interval_s: PositiveFloat = 20.0
    pong_timeout_s: PositiveFloat = 60.0  # no pong to a ping for this long: disconnect
    max_connection_age_s: PositiveFloat = 86_400.0  # the server drops every connection after this long
    max_buffer_bytes: Positive = 64 * 1024 * 1024  # unread data beyond this: the client is too slow, drop it


class BinanceRestLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Binance spot REST limits (current published values by default)."""

    request_weight: Positive = 6000
    request_weight_interval_s: Positive = 60
    raw_requests: Positive = 61_000
    raw_requests_interval_s: Positive = 300
    orders: Positive = 100
    orders_interval_s: Positive = 10
    orders_per_day: Positive = 200_000
    rejections_before_ban: Positive = 5  # 429s in one window before the IP gets 418s
    ban_seconds: Positive = 120
    max_recv_window_ms: Positive = 60_000


class BinanceSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The simulated Binance spot exchange."""

    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0  # 0: chosen at start
    rest: BinanceRestLimits = BinanceRestLimits()
    websocket: WebSocketLimits = WebSocketLimits()
    listen_key_ttl_s: PositiveFloat = 3600.0


class OkxWebSocketLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """OKX v5 public WebSocket limits (OKX's published values by default)."""

    connection_attempts: Positive = 3  # per IP per connection_interval_s; beyond: HTTP 429 on the upgrade
    connection_interval_s: PositiveFloat = 1.0
    subscription_requests: Positive = 480  # subscribe/unsubscribe requests per connection per hour; beyond: error 60014
    subscription_interval_s: PositiveFloat = 3600.0
    idle_timeout_s: PositiveFloat = 30.0  # nothing pushed (data, pong or event) for this long: OKX drops the connection
    max_connection_age_s: PositiveFloat = 86_400.0
    max_buffer_bytes: Positive = 64 * 1024 * 1024


class OkxRestLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """OKX REST limits per two seconds: public ones per IP and endpoint, trading ones per account, endpoint and
    instrument (``orders``: place / cancel / query an order, list pending orders, fills), ``account`` per account."""

    instruments: Positive = 20
    candles: Positive = 40
    history_candles: Positive = 20
    books: Positive = 40
    other: Positive = 20
    orders: Positive = 60
    fills_history: Positive = 10
    account: Positive = 10
    interval_s: PositiveFloat = 2.0
    max_timestamp_skew_s: PositiveFloat = 30.0  # OK-ACCESS-TIMESTAMP further than this from the server: 50102


class OkxSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The simulated OKX v5 public API."""

    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    rest: OkxRestLimits = OkxRestLimits()
    websocket: OkxWebSocketLimits = OkxWebSocketLimits()


class KrakenWebSocketLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Kraken WebSocket v1 limits (Kraken's published values by default)."""

    connection_attempts: Positive = 150  # per IP per connection_interval_s; beyond: HTTP 429 on the upgrade
    connection_interval_s: PositiveFloat = 600.0
    heartbeat_interval_s: PositiveFloat = 1.0  # a subscribed connection with no traffic for this long gets a heartbeat
    max_buffer_bytes: Positive = 64 * 1024 * 1024


class KrakenRestLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Kraken REST limits: public requests per IP per window (about one a second, with a burst); the private API
    call counter and the per-pair order rate counter of an account (Kraken's Starter tier by default), which rise
    per call / order and decay every second."""

    public_requests: Positive = 20
    interval_s: PositiveFloat = 20.0
    api_counter_max: Positive = 15  # +1 per private call, +2 for TradesHistory; beyond: EAPI:Rate limit exceeded
    api_counter_decay_per_s: PositiveFloat = 0.33
    order_counter_max: Positive = 60  # +1 per order, more for a cancel soon after placing; beyond: EOrder:Rate limit exceeded
    order_counter_decay_per_s: PositiveFloat = 1.0
    websocket_token_ttl_s: PositiveFloat = 900.0


class KrakenSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The simulated Kraken (WebSocket v1 and public REST)."""

    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    rest: KrakenRestLimits = KrakenRestLimits()
    websocket: KrakenWebSocketLimits = KrakenWebSocketLimits()


class SimulatorConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything a simulator run needs; see the module docstring for ``rate``."""

    exchanges: tuple[str, ...] = ("binance",)
    instruments: Positive = 1000  # per exchange
    rate: Annotated[float, msgspec.Meta(ge=0)] = 2000.0
    seed: int = 7
    host: str = "127.0.0.1"
    clock: Literal["realtime", "manual"] = "realtime"
    epoch_ms: int | None = None  # simulated time at start; None: the wall clock at start
    quantum_ms: Positive = 10
    book_depth: Positive = 50
    volatility_scale: PositiveFloat = 1.0
    candle_history_minutes: Positive = 720
    accounts: tuple[AccountSpec, ...] = (
        AccountSpec(DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_BALANCES, passphrase=DEFAULT_API_PASSPHRASE),
    )
    ground_truth_max_events: Positive = 5_000_000  # about 35 bytes each; past it the oldest half is dropped
    binance: BinanceSettings = BinanceSettings()
    okx: OkxSettings = OkxSettings()
    kraken: KrakenSettings = KrakenSettings()
    control_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0  # the fault and ground-truth control API; 0: any free port


def load_simulator_config(values: dict[str, object]) -> SimulatorConfig:
    """Validate a plain mapping (CLI flags, YAML); errors name the field and the bad value."""
    config = convert_settings(SimulatorConfig, values)
    if not config.exchanges:
        raise ConfigError("invalid SimulatorConfig setting exchanges: at least one exchange is needed")
    return config
