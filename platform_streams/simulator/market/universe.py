"""The simulated universe: assets with USD prices, and each exchange's listing of base/quote instruments.

Every exchange lists pairs from one shared pool, ranked by how popular the base
and the quote are on that exchange (a seeded perturbation of a per-exchange quote
preference), so the majors are listed everywhere and the long tail differs.
Prices and sizes are integers at :data:`PRICE_SCALE`; each instrument has its own
tick, lot and minimum notional, chosen from its price like a real exchange does.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from platform_streams.simulator.market.asset_names import (
    CRYPTO_ASSETS,
    FIAT_USD_PRICES,
    REFERENCE_USD_PRICES,
    STABLECOINS,
)

#: Every price, quantity and notional of the simulator is an integer mantissa at this scale.
PRICE_SCALE = 8
SCALE_FACTOR = 10**PRICE_SCALE

ASSET_CRYPTO, ASSET_STABLE, ASSET_FIAT = 0, 1, 2

#: Quote preference of each exchange (relative weight of a quote asset); unknown exchanges use binance's.
EXCHANGE_QUOTE_WEIGHTS: dict[str, dict[str, float]] = {
    "binance": {
        "USDT": 1.0, "BTC": 0.5, "USDC": 0.45, "FDUSD": 0.35, "ETH": 0.25, "BNB": 0.2, "TRY": 0.15, "EUR": 0.15,
        "BRL": 0.08, "TUSD": 0.08, "DAI": 0.05, "JPY": 0.05, "GBP": 0.04, "AUD": 0.03, "ZAR": 0.02, "PLN": 0.02,
        "ARS": 0.02, "MXN": 0.02,
    },
    "okx": {"USDT": 1.0, "USDC": 0.6, "BTC": 0.35, "ETH": 0.2, "EUR": 0.1, "USD": 0.1, "TRY": 0.05, "BRL": 0.04, "AUD": 0.03},
    "kraken": {
        "USD": 1.0, "EUR": 0.8, "USDT": 0.4, "USDC": 0.3, "BTC": 0.3, "ETH": 0.2, "GBP": 0.2, "CAD": 0.1, "AUD": 0.1,
        "JPY": 0.05,
    },
}  # fmt: skip

#: Fiat currencies that some exchanges also list as a base against a stablecoin (EUR/USDT).
_FIAT_BASES = ("EUR", "GBP", "AUD")
_MIN_PRICE = 1e-5  # below this a pair would have fewer than 1,000 ticks at 8 decimals


class UniverseError(ValueError):
    """The universe cannot be built as asked (e.g. more instruments than plausible pairs)."""


@dataclass(frozen=True, slots=True)
class AssetTable:
    """All assets with their kind and USD price at the start of the simulation."""

    names: tuple[str, ...]
    kinds: np.ndarray  # int8: ASSET_CRYPTO / ASSET_STABLE / ASSET_FIAT
    usd_prices: np.ndarray  # float64

    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}


@dataclass(frozen=True, slots=True)
class Instrument:
    """One listed base/quote pair of one exchange, with its trading rules as integer mantissas at scale 8."""

    index: int  # position in the exchange's listing
    base: str
    quote: str
    base_asset: int  # index in the AssetTable
    quote_asset: int
    tick: int  # price tick, mantissa at scale 8
    lot: int  # quantity step, mantissa at scale 8
    min_notional: int  # in quote units, mantissa at scale 8
    max_lots: int
    max_price_ticks: int
    start_price_ticks: int
    typical_lots: int  # typical resting quantity of one book level
    spread_ticks: int  # typical distance between best bid and best ask
    activity: float  # relative share of the exchange's order flow

    @property
    def symbol(self) -> str:
        """The normalised symbol, ``BASE/QUOTE``."""
        return f"{self.base}/{self.quote}"


@dataclass(frozen=True, slots=True)
class Universe:
    """Assets and each exchange's instruments."""

    assets: AssetTable
    listings: Mapping[str, tuple[Instrument, ...]]


def stable_seed(*parts: object) -> int:
    """A seed derived from text parts, independent of Python's hash randomisation."""
    return zlib.crc32("/".join(str(p) for p in parts).encode())


def build_assets(seed: int) -> AssetTable:
    """Crypto assets, stablecoins and fiat currencies with their starting USD prices."""
    rng = np.random.default_rng(stable_seed("assets", seed))
    crypto = [a for a in CRYPTO_ASSETS if a not in STABLECOINS and a not in FIAT_USD_PRICES]
    names = tuple(crypto) + STABLECOINS + tuple(FIAT_USD_PRICES)
    kinds = np.array(
        [ASSET_CRYPTO] * len(crypto) + [ASSET_STABLE] * len(STABLECOINS) + [ASSET_FIAT] * len(FIAT_USD_PRICES), dtype=np.int8
    )
    random_prices = 10.0 ** rng.normal(-0.3, 1.2, size=len(crypto))
    prices = [REFERENCE_USD_PRICES.get(name, float(p)) for name, p in zip(crypto, random_prices, strict=True)]
    prices += [1.0] * len(STABLECOINS) + list(FIAT_USD_PRICES.values())
    return AssetTable(names=names, kinds=kinds, usd_prices=np.array(prices, dtype=np.float64))


def build_universe(seed: int, instrument_counts: Mapping[str, int]) -> Universe:
    """List ``instrument_counts[exchange]`` instruments on each exchange, deterministically from ``seed``."""
    assets = build_assets(seed)
    listings = {name: _list_exchange(seed, name, count, assets) for name, count in instrument_counts.items()}
    return Universe(assets=assets, listings=listings)


def _candidate_pairs(assets: AssetTable, quote_weights: Mapping[str, float]) -> list[tuple[float, int, int]]:
    """(popularity score, base index, quote index) of every plausible pair for this quote preference."""
    index = assets.index()
    crypto_rank = {name: rank for rank, name in enumerate(CRYPTO_ASSETS)}
    candidates: list[tuple[float, int, int]] = []
    for quote, quote_weight in quote_weights.items():
        if quote not in index:
            continue
        q = index[quote]
        for b, base in enumerate(assets.names):
            if b == q or not _pair_allowed(assets, b, q, quote_weights):
                continue
            price = assets.usd_prices[b] / assets.usd_prices[q]
            if price < _MIN_PRICE or price > 1e9:
                continue
            base_weight = 1.0 / (crypto_rank.get(base, 60) + 5) ** 0.9
            candidates.append((base_weight * quote_weight, b, q))
    return candidates


def _pair_allowed(assets: AssetTable, base: int, quote: int, quote_weights: Mapping[str, float]) -> bool:
    base_name, quote_name = assets.names[base], assets.names[quote]
    base_kind, quote_kind = int(assets.kinds[base]), int(assets.kinds[quote])
    if base_kind == ASSET_FIAT:
        return base_name in _FIAT_BASES and quote_kind == ASSET_STABLE
    if base_kind == ASSET_STABLE:
        return quote_kind == ASSET_FIAT or (quote_name == "USDT" and base_name != "USDT")
    if base_name in quote_weights and quote_kind == ASSET_CRYPTO:
        # a quote asset is only the base against a more popular quote (ETH/BTC, not BTC/ETH)
        return quote_weights[base_name] < quote_weights[quote_name]
    return True


def _list_exchange(seed: int, exchange: str, count: int, assets: AssetTable) -> tuple[Instrument, ...]:
    quote_weights = EXCHANGE_QUOTE_WEIGHTS.get(exchange, EXCHANGE_QUOTE_WEIGHTS["binance"])
    candidates = _candidate_pairs(assets, quote_weights)
    if count > len(candidates):
        raise UniverseError(f"{exchange}: {count} instruments asked, only {len(candidates)} plausible pairs exist")
    rng = np.random.default_rng(stable_seed("listing", exchange, seed))
    noise = rng.lognormal(0.0, 0.45, size=len(candidates))
    order = sorted(range(len(candidates)), key=lambda k: (-candidates[k][0] * noise[k], k))[:count]
    chosen = [candidates[k] for k in order]
    scores = np.array([score for score, _, _ in chosen])
    activity = scores**0.8 / float(np.sum(scores**0.8))
    return tuple(_make_instrument(i, b, q, float(activity[i]), assets, rng) for i, (_, b, q) in enumerate(chosen))


def _make_instrument(
    index: int, base: int, quote: int, activity: float, assets: AssetTable, rng: np.random.Generator
) -> Instrument:
    base_usd, quote_usd = float(assets.usd_prices[base]), float(assets.usd_prices[quote])
    price = base_usd / quote_usd
    tick_exponent = max(-PRICE_SCALE, math.floor(math.log10(price)) - 4)  # 1e4..1e5 ticks: 0.1-1 bp per tick
    tick = 10 ** (PRICE_SCALE + tick_exponent)
    lot_exponent = min(0, max(-PRICE_SCALE, math.floor(math.log10(1.0 / base_usd))))
    lot = 10 ** (PRICE_SCALE + lot_exponent)
    start_ticks = max(1000, round(price * SCALE_FACTOR / tick))
    level_usd = 10.0 ** rng.uniform(2.5, 4.5)
    typical_lots = max(1, round(level_usd / (base_usd * lot / SCALE_FACTOR)))
    return Instrument(
        index=index,
        base=assets.names[base],
        quote=assets.names[quote],
        base_asset=base,
        quote_asset=quote,
        tick=tick,
        lot=lot,
        min_notional=_one_significant_digit(5.0 / quote_usd),
        max_lots=10**8,
        max_price_ticks=start_ticks * 1000,
        start_price_ticks=start_ticks,
        typical_lots=typical_lots,
        spread_ticks=1 + int(rng.geometric(0.6)) - 1,
        activity=activity,
    )


def _one_significant_digit(value: float) -> int:
    """``value`` rounded to one significant digit, as a mantissa at scale 8 (at least 1)."""
    exponent = math.floor(math.log10(value))
    digit = max(1, round(value / 10.0**exponent))
    return max(1, round(digit * 10.0 ** (exponent + PRICE_SCALE)))
