"""The strategies a deployment can name: the four shipped here by name, or any other strategy
class by its import path (``package.module:ClassName``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from strategies.cross_exchange_arbitrage import CrossExchangeArbitrage
from strategies.ema_crossover import EmaCrossover
from strategies.market_maker import InventorySkewedMarketMaker
from strategies.mean_reversion import MeanReversion
from strategies.strategy import Strategy

STRATEGIES: Mapping[str, type[Strategy]] = {
    cls.name: cls for cls in (EmaCrossover, MeanReversion, CrossExchangeArbitrage, InventorySkewedMarketMaker)
}


class UnknownStrategy(LookupError):
    """A deployment names a strategy that is neither shipped nor importable."""


def strategy_class(name: str) -> type[Strategy]:
    """The class of ``name``: a shipped strategy's name, or ``package.module:ClassName``."""
    if name in STRATEGIES:
        return STRATEGIES[name]
    module_name, _, class_name = name.partition(":")
    if not class_name:
        raise UnknownStrategy(f"unknown strategy {name!r}; shipped: {', '.join(sorted(STRATEGIES))} (or give module:Class)")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise UnknownStrategy(f"cannot load strategy {name!r}: {error}") from None
    if not (isinstance(found, type) and issubclass(found, Strategy)):
        raise UnknownStrategy(f"{name!r} is not a Strategy subclass")
    return found
