"""The simulator's own view of its accounts on one venue: balances and the order log with fills, as JSON-ready
mappings (``GET /_control/accounts``), so end-to-end tests can compare the platform's positions with it exactly.

Amounts are decimal text from the integer mantissas (scale 8), never floats.
"""

from __future__ import annotations

from collections.abc import Sequence

from platform_streams.simulator.decimal_text import trimmed
from platform_streams.simulator.matching.accounts import AccountRegistry
from platform_streams.simulator.matching.engine import MatchingEngine
from platform_streams.simulator.matching.orders import Fill, Order


def _text(mantissa: int) -> str:
    return ("-" if mantissa < 0 else "") + trimmed(abs(mantissa)).decode()


def _fill(fill: Fill, tick: int, lot: int) -> dict[str, object]:
    return {
        "trade_id": fill.trade_id,
        "price": _text(fill.price_ticks * tick),
        "quantity": _text(fill.lots * lot),
        "quote": _text(fill.quote_amount),
        "commission": _text(fill.commission),
        "commission_asset": fill.commission_asset,
        "maker": fill.is_maker,
        "time_ms": fill.time_ms,
    }


def _order(order: Order, engine: MatchingEngine, symbols: Sequence[str]) -> dict[str, object]:
    spec = engine.market.instruments[order.instrument]
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "tag": order.tag,
        "symbol": symbols[order.instrument],
        "side": order.side.value,
        "type": order.order_type.value,
        "time_in_force": order.time_in_force.value,
        "status": order.status.value,
        "price": _text(order.price_ticks * spec.tick),
        "quantity": _text(order.lots * spec.lot),
        "quote_quantity": _text(order.quote_amount),
        "executed_quantity": _text(order.executed_lots * spec.lot),
        "cumulative_quote": _text(order.cumulative_quote),
        "created_ms": order.created_ms,
        "updated_ms": order.updated_ms,
        "fills": [_fill(f, spec.tick, spec.lot) for f in order.fills],
    }


def account_report(engine: MatchingEngine, accounts: AccountRegistry, symbols: Sequence[str]) -> list[dict[str, object]]:
    """Every account of a venue: its API key (never the secret), balances, and every order it placed there."""
    return [
        {
            "api_key": account.api_key,
            "balances": {
                asset: {"free": _text(account.balance(asset)[0]), "locked": _text(account.balance(asset)[1])}
                for asset in account.assets()
            },
            "orders": [_order(o, engine, symbols) for o in engine.orders_of(account)],
        }
        for account in accounts
    ]
