"""OKX v5's public URLs, subscription messages and documented limits (as data).

Limits from the OKX v5 API docs (WebSocket overview; Get instruments): 3 new
connections per second per IP; 480 ``subscribe``/``unsubscribe``/``login`` requests
per hour per connection; a subscribe message's ``args`` at most 64 KB; a connection
with no traffic for 30 s is closed (send the text ``ping``). ``/api/v5/public/instruments``:
20 requests per 2 seconds per IP. Candle channels moved to the ``business`` URL in 2023. Trading
(Rate limits; Trade): 60 requests per 2 s per account for each of place, cancel and query order
and pending orders, 10 per 2 s for fills history. OKX counts order entry per instrument too; the
budget keeps the whole account within one instrument's limit, which is stricter and never over.
"""

from __future__ import annotations

import msgspec

from platform_streams.exchanges.limits import ExchangeLimits, RateLimit, RequestLimit, RequestLimits

WS_BASE_URL = "wss://ws.okx.com:8443"
WS_PUBLIC_URL = f"{WS_BASE_URL}/ws/v5/public"
WS_BUSINESS_URL = f"{WS_BASE_URL}/ws/v5/business"
REST_BASE_URL = "https://www.okx.com"
INSTRUMENT_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
MAX_SUBSCRIBE_ARGS_BYTES = 64 * 1024
PING_MESSAGE = b"ping"

LIMITS = ExchangeLimits(
    exchange="okx",
    streams_per_connection=None,
    subscribe_messages=RateLimit(480, 3600.0, "connection", "subscribe, unsubscribe and login requests"),
    new_connections=RateLimit(3, 1.0, "ip", "new WebSocket connections"),
    connection_lifetime_s=None,
    rest_budget=RateLimit(20, 2.0, "ip", "GET /api/v5/public/instruments requests"),
    rest_weights={"/api/v5/public/instruments": 1},
    source="https://www.okx.com/docs-v5/en/#overview-websocket",
    notes="no channel count limit per connection, but a subscribe message's args must stay under 64 KB",
    requests=RequestLimits(
        limits={
            "rest": RequestLimit(20, "ip", "GET /api/v5/public/instruments requests", window_s=2.0),
            "place": RequestLimit(60, "account", "POST /api/v5/trade/order requests", window_s=2.0),
            "cancel": RequestLimit(60, "account", "POST /api/v5/trade/cancel-order requests", window_s=2.0),
            "query": RequestLimit(60, "account", "GET /api/v5/trade/order requests", window_s=2.0),
            "pending": RequestLimit(60, "account", "GET /api/v5/trade/orders-pending requests", window_s=2.0),
            "fills_history": RequestLimit(10, "account", "GET /api/v5/trade/fills-history requests", window_s=2.0),
        },
        costs={
            "markets": {"rest": 1},
            "place": {"place": 1},
            "cancel": {"cancel": 1},
            "query": {"query": 1},
            "open_orders": {"pending": 1},
            "fills": {"fills_history": 1},  # ccxt's fetch_my_trades
            "snapshot": {"rest": 1},
            "history": {"rest": 1},  # GET /api/v5/market/history-candles: 20 per 2 s, as `rest`
        },
    ),
)


def subscribe_message(channel: str, inst_ids: list[str]) -> bytes:
    """One ``subscribe`` request for ``channel`` (``books``, ``trades``, ``tickers``, ``candle1m``...) on several instruments."""
    message = msgspec.json.encode({"op": "subscribe", "args": [{"channel": channel, "instId": inst_id} for inst_id in inst_ids]})
    if len(message) > MAX_SUBSCRIBE_ARGS_BYTES:
        raise ValueError(f"subscribe message of {len(message)} bytes exceeds OKX's {MAX_SUBSCRIBE_ARGS_BYTES}")
    return message


def unsubscribe_message(channel: str, inst_ids: list[str]) -> bytes:
    return msgspec.json.encode({"op": "unsubscribe", "args": [{"channel": channel, "instId": inst_id} for inst_id in inst_ids]})


def ws_url_for(channel: str) -> str:
    """Candles are served on the business URL, everything else here on the public one."""
    return WS_BUSINESS_URL if channel.startswith("candle") else WS_PUBLIC_URL


def instruments_url(inst_type: str, underlying: str = "") -> str:
    """``/api/v5/public/instruments`` for one type (options need an underlying, e.g. ``BTC-USD``)."""
    if inst_type not in INSTRUMENT_TYPES:
        raise ValueError(f"instType must be one of {INSTRUMENT_TYPES}, not {inst_type!r}")
    if inst_type == "OPTION" and not underlying:
        raise ValueError("OKX lists options per underlying: give one, e.g. 'BTC-USD'")
    suffix = f"&uly={underlying}" if underlying else ""
    return f"{REST_BASE_URL}/api/v5/public/instruments?instType={inst_type}{suffix}"
