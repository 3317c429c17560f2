"""Canonical events: the typed, versioned structs that travel between stages.

Every struct is encoded as a compact msgpack array whose first element is its tag
(``"trade.1"``): the name says what it is, the number is its schema version. A new
version of an event is a new struct with a new tag, decoded side by side with the
old one while producers migrate.

Money is exact: prices, sizes and fees are integer mantissas with a decimal scale
(see :mod:`platform_streams.schemas.fixed_point`); no float is ever a price.
Market events carry the exchange's timestamp, the platform's receive timestamp
(ns since the epoch), the exchange's id or sequence number, and ``exchange`` and
``symbol``, whose ``exchange:symbol`` join is their Kafka key.
"""

from __future__ import annotations

import enum

import msgspec

Level = tuple[int, int]
"""One order-book level: (price mantissa, size mantissa); size 0 removes the level."""


class Side(enum.Enum):
    """Side of an order, or the aggressor side of a trade."""

    BUY = "buy"
    SELL = "sell"
    UNKNOWN = "unknown"


class OrderType(enum.Enum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(enum.Enum):
    """Life-cycle states of an order, as the exchange reports them."""

    PENDING = "pending"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Liquidity(enum.Enum):
    MAKER = "maker"
    TAKER = "taker"
    UNKNOWN = "unknown"


class _Event(msgspec.Struct, array_like=True, frozen=True, gc=False, tag_field="type"):
    """Base of every canonical event (``tag_field`` only names the tag in JSON renderings)."""


class _MarketEvent(_Event, frozen=True):
    """Fields every market event carries, in wire order."""

    exchange: str
    symbol: str
    exchange_ts_ns: int
    receive_ts_ns: int
    sequence: int

    @property
    def key(self) -> str:
        """The Kafka key: ``exchange:symbol``, so one instrument stays in one partition."""
        return f"{self.exchange}:{self.symbol}"


class Trade(_MarketEvent, frozen=True, tag="trade.1"):
    """A public trade. ``sequence`` is the exchange's trade id when it is numeric."""

    trade_id: str
    side: Side
    price: int
    size: int
    price_scale: int
    size_scale: int

    @property
    def event_id(self) -> str:
        return f"trade:{self.exchange}:{self.symbol}:{self.trade_id}"


class BookSnapshot(_MarketEvent, frozen=True, tag="book_snapshot.1"):
    """A full order book (best first on each side) as of exchange sequence ``sequence``."""

    bids: list[Level]
    asks: list[Level]
    price_scale: int
    size_scale: int

    @property
    def event_id(self) -> str:
        return f"book_snapshot:{self.key}:{self.sequence}"


class BookDelta(_MarketEvent, frozen=True, tag="book_delta.1"):
    """Changed levels; ``first_sequence``..``sequence`` are the exchange update ids covered
    and ``prev_sequence`` the id the previous delta ended at (0 where the exchange has none)."""

    first_sequence: int
    prev_sequence: int
    bids: list[Level]
    asks: list[Level]
    price_scale: int
    size_scale: int

    @property
    def event_id(self) -> str:
        return f"book_delta:{self.key}:{self.sequence}"


class BookResync(_MarketEvent, frozen=True, tag="book_resync.1"):
    """The book of an instrument was found wrong (sequence gap, checksum mismatch,
    reconnect) and is being rebuilt from a fresh snapshot; deltas until the next
    :class:`BookSnapshot` must not be applied. ``sequence`` is the last good id."""

    reason: str
    expected_sequence: int
    received_sequence: int

    @property
    def event_id(self) -> str:
        return f"book_resync:{self.key}:{self.sequence}:{self.receive_ts_ns}"


class BestBidOffer(_MarketEvent, frozen=True, tag="bbo.1"):
    """Top of book. An empty side has price and size 0."""

    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int
    price_scale: int
    size_scale: int

    @property
    def event_id(self) -> str:
        return f"bbo:{self.key}:{self.sequence}:{self.exchange_ts_ns}"


class Candle(_MarketEvent, frozen=True, tag="candle.1"):
    """OHLCV bar over ``[open_ts_ns, open_ts_ns + interval_s)``; ``closed`` once final."""

    interval_s: int
    open_ts_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    trade_count: int
    closed: bool
    price_scale: int
    size_scale: int

    @property
    def event_id(self) -> str:
        return f"candle:{self.key}:{self.interval_s}:{self.open_ts_ns}:{self.sequence}:{int(self.closed)}"


class IndicatorValue(_MarketEvent, frozen=True, tag="indicator.1"):
    """One value of a named indicator (``"ema"`` with ``parameters`` ``"period=20"``) as fixed point.

    Candle indicators (``interval_s`` > 0) are stamped with their candle's end; top-of-book ones
    (``interval_s`` 0) with their quote's time and sequence (docs/processing.md)."""

    indicator: str
    parameters: str
    interval_s: int
    value: int
    value_scale: int

    @property
    def event_id(self) -> str:
        return f"indicator:{self.key}:{self.indicator}:{self.parameters}:{self.interval_s}:{self.exchange_ts_ns}:{self.sequence}"


class InstrumentKind(enum.Enum):
    """What is traded: the asset itself or a contract on it."""

    SPOT = "spot"
    SWAP = "swap"
    FUTURE = "future"
    OPTION = "option"


class Instrument(_Event, frozen=True, tag="instrument.1"):
    """One tradable instrument of one exchange, with the scales its prices and sizes are parsed at
    (reference data on the compacted ``ref.instrument`` topic, keyed ``exchange:symbol``).

    ``tick_size``, ``lot_size`` and ``min_size`` are mantissas at ``price_scale`` /
    ``size_scale``; ``min_notional`` (in the quote asset) and ``contract_value`` carry
    their own scales; 0 means the exchange publishes no such constraint.
    ``exchange_symbol`` is the name on the market-data WebSocket; ``aliases`` are the
    exchange's other names for it (REST names such as Kraken's ``XXBTZUSD``)."""

    exchange: str
    symbol: str
    exchange_symbol: str
    base: str
    quote: str
    price_scale: int
    size_scale: int
    tick_size: int
    lot_size: int
    min_size: int = 0
    min_notional: int = 0
    min_notional_scale: int = 0
    kind: InstrumentKind = InstrumentKind.SPOT
    settle: str = ""
    contract_value: int = 0
    contract_value_scale: int = 0
    active: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.exchange}:{self.symbol}"

    @property
    def event_id(self) -> str:
        return f"instrument:{self.key}"


class SnapshotRequest(_Event, frozen=True, tag="snapshot_request.1"):
    """A normaliser asks ingestion for a fresh book snapshot of ``exchange_symbol`` on the
    connection that carries it (``ctl.resync``, keyed by connection id)."""

    exchange: str
    exchange_symbol: str
    connection_id: str
    reason: str
    requested_ts_ns: int

    @property
    def key(self) -> str:
        return self.connection_id

    @property
    def event_id(self) -> str:
        return f"snapshot_request:{self.connection_id}:{self.exchange_symbol}:{self.requested_ts_ns}"


class Hop(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """Time a causal chain spent in one stage: consumed at ``in_ts_ns``, produced at ``out_ts_ns``.

    The gap between one hop's ``out_ts_ns`` and the next hop's ``in_ts_ns`` is broker wait."""

    stage: str
    in_ts_ns: int
    out_ts_ns: int


class IntentKind(enum.Enum):
    """What a :class:`StrategyIntent` asks for (the strategy API's vocabulary, ``strategies/intents.py``)."""

    TARGET = "target"  # move the position to target_size (signed), at limit_price or at market
    QUOTE = "quote"  # rest a limit order of quote_size on side at limit_price, replacing this side's previous quote
    CANCEL = "cancel"  # withdraw the deployment's quotes on side (UNKNOWN: both sides)


class StrategyIntent(_Event, frozen=True, tag="intent.2"):
    """What a strategy deployment wants in one instrument (``kind`` says which of three things).

    ``target_size`` is the signed target position (TARGET only; 0 otherwise) and ``quote_size``
    the resting size (QUOTE only), both size mantissas at ``size_scale``; ``limit_price`` is a
    price mantissa at ``price_scale`` (None: at market). ``intent_id`` is deterministic
    (deployment and the id of the market event that caused it), so a replay repeats it.
    ``deployment``, ``account`` and ``mode`` (``paper`` | ``live``) name who trades where.
    intent.2 (the draft intent.1 was never produced): ``kind``, ``quote_size``, ``deployment``,
    ``account`` and ``mode`` appended; then ``epoch``, the deployment's fencing epoch (0: a
    deployment no ``ctl.strategy`` record governs), which risk checks against the current one."""

    intent_id: str
    strategy: str
    strategy_version: str
    exchange: str
    symbol: str
    side: Side
    target_size: int
    limit_price: int | None
    price_scale: int
    size_scale: int
    reason: str
    created_ts_ns: int
    market_receive_ts_ns: int
    hops: list[Hop]
    kind: IntentKind = IntentKind.TARGET
    quote_size: int = 0
    deployment: str = ""
    account: str = ""
    mode: str = "paper"
    epoch: int = 0

    @property
    def key(self) -> str:
        """Keyed by account, like the order requests risk makes of it: one risk replica sees every
        intent of an account, so an account's limits are never split between replicas."""
        return self.account

    @property
    def event_id(self) -> str:
        return f"intent:{self.intent_id}"


class InputOffset(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """The next offset to read in one input partition."""

    topic: str
    partition: int
    offset: int


class StrategySnapshot(_Event, frozen=True, tag="strategy_snapshot.1"):
    """A strategy deployment's state as of its input offsets (the compacted
    ``strat.state`` topic, keyed by deployment): a host restores it on start and skips the
    input records it already covers (``input_offsets``), so a restart neither loses nor applies an event twice.
    ``state`` is the strategy's own ``snapshot()`` bytes; ``instrument_positions`` the
    deployment's positions (``exchange:symbol`` → size mantissa) as its fills left them."""

    deployment: str
    strategy: str
    strategy_version: str
    state: bytes
    instrument_positions: dict[str, int]
    input_offsets: list[InputOffset]
    ts_ns: int
    # appended with a default, so snapshots of either shape decode on either side (see docs/schemas.md)
    epoch: int = 0  # the fencing epoch the host runs the deployment at: a hot deploy is confirmed by it

    @property
    def key(self) -> str:
        return self.deployment

    @property
    def event_id(self) -> str:
        return f"strategy_snapshot:{self.deployment}:{self.ts_ns}"


class StrategyDeploymentControl(_Event, frozen=True, tag="strategy_deployment.1"):
    """The desired state of one strategy deployment at run time (``ctl.strategy``, compacted, keyed
    by deployment): the ``host`` that runs it, its ``spec`` (a ``StrategyDeploymentSpec`` as JSON)
    and ``running`` (False: stopped). ``epoch`` grows by one with every record of the deployment:
    the host stamps it on the deployment's intents and risk lets through only the current epoch's,
    so an older version still running somewhere can never send an order (fencing)."""

    deployment: str
    epoch: int
    host: str
    running: bool
    spec: bytes
    operator: str
    ts_ns: int

    @property
    def key(self) -> str:
        return self.deployment

    @property
    def event_id(self) -> str:
        return f"strategy_deployment:{self.deployment}:{self.epoch}"


class StreamDeploymentControl(_Event, frozen=True, tag="stream_deployment.1"):
    """The desired state of one deployment of stream daemons (``ctl.deployment``, compacted, keyed by
    deployment): the ``host`` whose supervisor runs it, its ``spec`` (the deployment spec, as JSON) and
    ``running`` (False: stopped, its daemons are stopped and the others keep running). ``revision``
    grows with every record of the deployment; the supervisor reports the revision it applied, so
    whoever asked can wait for it."""

    deployment: str
    host: str
    running: bool
    spec: bytes
    revision: int
    operator: str
    ts_ns: int

    @property
    def key(self) -> str:
        return self.deployment

    @property
    def event_id(self) -> str:
        return f"stream_deployment:{self.deployment}:{self.revision}"


class OrderRequest(_Event, frozen=True, tag="order_request.1"):
    """An order to send, keyed by ``account`` so one executor handles an account in order.

    ``client_order_id`` is deterministic and recorded before sending, so a retry never
    places a second order. ``market_receive_ts_ns`` and ``hops`` trace its latency."""

    client_order_id: str
    account: str
    exchange: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int | None
    size: int
    price_scale: int
    size_scale: int
    strategy: str
    intent_id: str
    created_ts_ns: int
    market_receive_ts_ns: int
    hops: list[Hop]
    deployment: str = ""  # the strategy deployment the intent came from (appended; order_request.1 was never produced before)

    @property
    def key(self) -> str:
        return self.account

    @property
    def event_id(self) -> str:
        return f"order_request:{self.client_order_id}"


class CancelRequest(_Event, frozen=True, tag="cancel_request.1"):
    """Withdraw an order sent before (``exec.order_request``, keyed by ``account`` like the order, so
    it is handled after it): by its client order id, which the exchange knows it by."""

    client_order_id: str
    account: str
    exchange: str
    symbol: str
    reason: str
    created_ts_ns: int

    @property
    def key(self) -> str:
        return self.account

    @property
    def event_id(self) -> str:
        return f"cancel_request:{self.client_order_id}"


class RiskRejection(_Event, frozen=True, tag="risk_rejection.1"):
    """An intent pre-trade risk refused (``risk.rejection``, keyed by account): ``rule`` names the
    limit (``max_position``, ``kill_switch``, ...), ``detail`` says by how much, in words."""

    intent_id: str
    account: str
    deployment: str
    strategy: str
    exchange: str
    symbol: str
    rule: str
    detail: str
    decided_ts_ns: int

    @property
    def key(self) -> str:
        return self.account

    @property
    def event_id(self) -> str:
        return f"risk_rejection:{self.intent_id}"


class RiskControl(_Event, frozen=True, tag="risk_control.1"):
    """An operator's kill switch for one scope (``ctl.risk``, compacted, keyed by ``scope``):
    ``global``, ``account:<name>``, ``deployment:<name>`` or ``strategy:<name>``. ``halted`` stops
    every new order in the scope; the switch is released by ``halted=False`` or a tombstone."""

    scope: str
    halted: bool
    reason: str
    operator: str
    ts_ns: int

    @property
    def key(self) -> str:
        return self.scope

    @property
    def event_id(self) -> str:
        return f"risk_control:{self.scope}:{self.ts_ns}"


class OrderEvent(_Event, frozen=True, tag="order_event.1"):
    """A change in an order's life cycle; ``sequence`` orders the events of one order."""

    client_order_id: str
    exchange_order_id: str
    account: str
    exchange: str
    symbol: str
    status: OrderStatus
    side: Side
    price: int | None
    size: int
    filled_size: int
    price_scale: int
    size_scale: int
    reason: str
    exchange_ts_ns: int
    receive_ts_ns: int
    sequence: int

    @property
    def key(self) -> str:
        return self.account

    @property
    def event_id(self) -> str:
        return f"order_event:{self.client_order_id}:{self.sequence}"


class Fill(_Event, frozen=True, tag="fill.1"):
    """One execution of one of our orders; ``fill_id`` is the exchange's trade id."""

    fill_id: str
    client_order_id: str
    exchange_order_id: str
    account: str
    exchange: str
    symbol: str
    side: Side
    price: int
    size: int
    price_scale: int
    size_scale: int
    fee: int
    fee_scale: int
    fee_asset: str
    liquidity: Liquidity
    exchange_ts_ns: int
    receive_ts_ns: int

    @property
    def key(self) -> str:
        return self.account

    @property
    def event_id(self) -> str:
        # the side too: a trade between two orders of one account (a self-trade) is two fills with one trade id
        return f"fill:{self.exchange}:{self.account}:{self.symbol}:{self.fill_id}:{self.side.value}"


class AssetAmount(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An amount of one asset (fees paid, a balance): ``amount`` at ``scale``."""

    asset: str
    amount: int
    scale: int


class Position(_Event, frozen=True, tag="position.2"):
    """Net position of an account in an instrument (weighted-average cost; see
    ``platform_streams/execution/positions.py``); ``version`` increases with every fill.

    ``size`` is signed (short < 0) at ``size_scale``; ``average_price`` and ``mark_price`` at
    ``price_scale`` (the instrument's plus four digits); PnL in quote units at ``pnl_scale``;
    ``unrealized_pnl`` against ``mark_price`` as of ``updated_ts_ns`` (0 without a mark)."""

    account: str
    exchange: str
    symbol: str
    size: int
    size_scale: int
    average_price: int
    price_scale: int
    realized_pnl: int
    unrealized_pnl: int
    pnl_scale: int
    mark_price: int | None
    fees: list[AssetAmount]
    updated_ts_ns: int
    version: int

    @property
    def key(self) -> str:
        return f"{self.account}:{self.exchange}:{self.symbol}"

    @property
    def event_id(self) -> str:
        return f"position:{self.key}:{self.version}"


class PartitionLag(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A consumer's position in one partition and how far behind the high watermark it is."""

    topic: str
    partition: int
    position: int
    high_watermark: int

    @property
    def lag(self) -> int:
        return max(self.high_watermark - self.position, 0) if self.position >= 0 else self.high_watermark


class Heartbeat(_Event, frozen=True, tag="heartbeat.1"):
    """A daemon's periodic sign of life with its counters and per-partition lag."""

    daemon: str
    instance: str
    host: str
    pid: int
    ts_ns: int
    state: str
    group: str
    lags: list[PartitionLag]
    messages_in: int
    messages_out: int
    errors: int
    metrics_port: int
    # appended with defaults, so heartbeats of either shape decode on either side (see docs/schemas.md)
    interval_s: float = 0.0  # how often this daemon sends one (0: not said)
    last_error: str = ""  # the latest error the daemon met ("" if none), e.g. "store: connection refused"
    last_error_ts_ns: int = 0

    @property
    def key(self) -> str:
        return self.instance

    @property
    def event_id(self) -> str:
        return f"heartbeat:{self.instance}:{self.ts_ns}"


class DeadLetter(_Event, frozen=True, tag="dead_letter.1"):
    """Input a stage could not handle, kept whole with the reason, never dropped."""

    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    payload: bytes
    reason: str
    error_type: str
    daemon: str
    exchange: str
    ts_ns: int

    @property
    def event_id(self) -> str:
        return f"dead_letter:{self.source_topic}:{self.source_partition}:{self.source_offset}"


CanonicalEvent = (
    Trade
    | BookSnapshot
    | BookDelta
    | BookResync
    | BestBidOffer
    | Candle
    | IndicatorValue
    | StrategyIntent
    | StrategySnapshot
    | StrategyDeploymentControl
    | StreamDeploymentControl
    | OrderRequest
    | CancelRequest
    | RiskRejection
    | RiskControl
    | OrderEvent
    | Fill
    | Position
    | Heartbeat
    | DeadLetter
    | Instrument
    | SnapshotRequest
)

EVENT_TYPES: tuple[type[_Event], ...] = CanonicalEvent.__args__  # type: ignore[attr-defined]
