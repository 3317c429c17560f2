"""Orders and fills of the matching engine, exchange-neutral; amounts are integer mantissas at scale 8."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OrderSide(StrEnum):
    """Buy or sell."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    """The order types the engine executes (LIMIT_MAKER: a limit order refused if it would take)."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"


class TimeInForce(StrEnum):
    """Good till canceled, immediate or cancel, fill or kill."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    """Life cycle of an order."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class ExecutionType(StrEnum):
    """Why an order changed: the ``x`` of Binance's executionReport."""

    NEW = "NEW"
    TRADE = "TRADE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A request to place an order; price and quantities are mantissas at scale 8, 0 when absent."""

    instrument: int
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: int
    price: int
    quote_quantity: int  # a market order sized by how much quote to spend or receive
    client_order_id: str
    tag: str = ""  # a venue's free label of the order (OKX tag, Kraken userref), echoed in its reports
    fee_from_spent: bool = False  # charge the fee in the asset given up (Kraken's default on a buy), not the one received


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of one of our orders."""

    trade_id: int
    order_id: int
    instrument: int
    price_ticks: int
    lots: int
    quote_amount: int  # price × quantity, scale 8
    commission: int  # scale 8
    commission_asset: str
    is_buyer: bool
    is_maker: bool
    time_ms: int


@dataclass(slots=True, eq=False)
class Order:
    """An order's state; mutated by the engine as it fills."""

    order_id: int
    account: str
    instrument: int
    client_order_id: str
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    price_ticks: int
    lots: int
    quote_amount: int
    created_ms: int
    status: OrderStatus = OrderStatus.NEW
    executed_lots: int = 0
    cumulative_quote: int = 0
    updated_ms: int = 0
    working_ms: int = -1  # when it went on the book, -1 if it never did
    locked_asset: str = ""
    cancel_client_order_id: str = ""  # the id of the request that canceled it, if one did
    tag: str = ""  # the request's tag
    fee_from_spent: bool = False  # the fee is charged in the asset given up (quote of a buy, base of a sell)
    locked_amount: int = 0
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_buy(self) -> bool:
        return self.side is OrderSide.BUY

    @property
    def remaining_lots(self) -> int:
        return self.lots - self.executed_lots
