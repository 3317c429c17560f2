"""Kraken's JSON views of orders, trades and balances (private REST), and its transaction ids.

Order ids are ``OXXXXX-XXXXX-XXXXXX`` and trade ids ``TXXXXX-XXXXX-XXXXXX``: the
engine's integer ids written in base 32, so they map back exactly. Times are seconds
with four decimals; amounts are decimal text at the pair's precision. Fees are
charged in the quote currency, or in the base with ``fcib``, as Kraken charges
them; ``oflags`` says which (``fciq`` / ``fcib``).
"""

from __future__ import annotations

from platform_streams.simulator.decimal_text import fixed, trimmed
from platform_streams.simulator.kraken.pairs import KRAKEN_ASSET_NAMES, LEGACY_ASSET_CODES, KrakenPair
from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument
from platform_streams.simulator.matching.accounts import Account
from platform_streams.simulator.matching.orders import Fill, Order, OrderStatus, OrderType

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_DIGITS = 16
_STATUSES = {
    OrderStatus.NEW: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "closed",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",  # Kraken closes an IOC remainder as canceled
}


def _encode(prefix: str, number: int) -> str:
    digits = []
    for _ in range(_DIGITS):
        number, digit = divmod(number, 32)
        digits.append(_ALPHABET[digit])
    text = "".join(reversed(digits))
    return f"{prefix}{text[:5]}-{text[5:10]}-{text[10:]}"


def _decode(prefix: str, text: str) -> int | None:
    if len(text) != 19 or not text.startswith(prefix) or text[6] != "-" or text[12] != "-":
        return None
    number = 0
    for char in text[1:6] + text[7:12] + text[13:]:
        digit = _ALPHABET.find(char)
        if digit < 0:
            return None
        number = number * 32 + digit
    return number


def fee_preference(order: Order) -> str:
    """``fciq`` when the order's fees are in the quote currency, ``fcib`` when in the base."""
    in_quote = order.fee_from_spent if order.is_buy else not order.fee_from_spent
    return "fciq" if in_quote else "fcib"


def order_txid(order_id: int) -> str:
    return _encode("O", order_id)


def order_id_of(txid: str) -> int | None:
    """The engine's order id of a Kraken order txid, None if it is not one."""
    return _decode("O", txid)


def trade_txid(fill: Fill) -> str:
    """Trade ids are unique per instrument; the txid folds the instrument in so it is unique per account."""
    return _encode("T", fill.trade_id * 100_000 + fill.instrument)


def kraken_asset(asset: str) -> str:
    """Kraken's balance code of a common asset name: BTC → XXBT, USD → ZUSD, USDT → USDT."""
    name = KRAKEN_ASSET_NAMES.get(asset, asset)
    return LEGACY_ASSET_CODES.get(name, name)


def seconds(time_ms: int) -> float:
    """Kraken's seconds-with-decimals timestamps (a float on the wire, as Kraken sends them)."""
    return time_ms / 1000


def _volume(lots: int, spec: Instrument) -> str:
    return fixed(lots * spec.lot, 8).decode()


def _price(ticks: int, spec: Instrument, pair: KrakenPair) -> str:
    return fixed(ticks * spec.tick, pair.pair_decimals).decode()


def order_info(order: Order, spec: Instrument, pair: KrakenPair, userref: int, with_trades: bool) -> dict[str, object]:
    """One ``QueryOrders`` / ``OpenOrders`` entry."""
    is_market = order.order_type is OrderType.MARKET
    side = "buy" if order.is_buy else "sell"
    price = "0" if is_market else _price(order.price_ticks, spec, pair)
    volume = _volume(order.lots, spec)
    oflags = [fee_preference(order)]
    if order.order_type is OrderType.LIMIT_MAKER:
        oflags.insert(0, "post")
    average = order.cumulative_quote * SCALE_FACTOR // (order.executed_lots * spec.lot) if order.executed_lots else 0
    info: dict[str, object] = {
        "refid": None,
        "userref": userref,
        "cl_ord_id": order.client_order_id or None,
        "status": _STATUSES[order.status],
        "opentm": seconds(order.created_ms),
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": pair.altname,
            "type": side,
            "ordertype": "market" if is_market else "limit",
            "price": price,
            "price2": "0",
            "leverage": "none",
            "order": f"{side} {volume} {pair.altname} @ {'market' if is_market else 'limit ' + price}",
            "close": "",
        },
        "vol": volume,
        "vol_exec": _volume(order.executed_lots, spec),
        "cost": trimmed(order.cumulative_quote).decode(),
        "fee": trimmed(sum(f.commission for f in order.fills)).decode(),
        "price": trimmed(average).decode(),
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": ",".join(oflags),
        "reason": None if order.status is not OrderStatus.EXPIRED else "Insufficient liquidity",
    }
    if not order.status.is_open:
        info["closetm"] = seconds(order.updated_ms)
    if with_trades:
        info["trades"] = [trade_txid(f) for f in order.fills]
    return info


def trade_info(fill: Fill, order: Order, spec: Instrument, pair: KrakenPair) -> dict[str, object]:
    """One ``TradesHistory`` entry."""
    return {
        "ordertxid": order_txid(fill.order_id),
        "postxid": _encode("T", fill.trade_id),
        "pair": pair.key,
        "time": seconds(fill.time_ms),
        "type": "buy" if fill.is_buyer else "sell",
        "ordertype": "market" if order.order_type is OrderType.MARKET else "limit",
        "price": _price(fill.price_ticks, spec, pair),
        "cost": trimmed(fill.quote_amount).decode(),
        "fee": trimmed(fill.commission).decode(),
        "vol": _volume(fill.lots, spec),
        "margin": "0.00000",
        "leverage": "0",
        "misc": "",
        "trade_id": fill.trade_id,
        "maker": fill.is_maker,
    }


def balances(account: Account) -> dict[str, str]:
    """``Balance``: each asset's total (free + held) under Kraken's code."""
    return {kraken_asset(a): trimmed(sum(account.balance(a))).decode() for a in account.assets()}


def extended_balances(account: Account) -> dict[str, dict[str, str]]:
    """``BalanceEx``: each asset's total and what open orders hold."""
    return {
        kraken_asset(a): {
            "balance": trimmed(sum(account.balance(a))).decode(),
            "hold_trade": trimmed(account.balance(a)[1]).decode(),
        }
        for a in account.assets()
    }
