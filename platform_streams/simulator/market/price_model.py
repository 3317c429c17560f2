"""Price dynamics: one "true" USD price per asset shared by all exchanges, plus per-exchange noise.

Crypto assets follow geometric Brownian motion driven by a common market factor
(so pairs are correlated) and their own noise, scaled by a market-wide volatility
regime (calm / normal / stressed, a Markov chain) and hit by Poisson jumps.
Stablecoins mean-revert tightly around one dollar, fiat drifts slowly. A pair's
true price is the ratio of its assets' prices, so ETH/BTC, ETH/USDT and BTC/USDT
stay triangularly consistent. Each exchange sees the true price times its own
mean-reverting noise, which is what makes cross-exchange spreads exist.
Floats are fine here: nothing leaves this module until it is snapped to a tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from platform_streams.simulator.market.universe import ASSET_CRYPTO, ASSET_FIAT, ASSET_STABLE, AssetTable, stable_seed

SECONDS_PER_YEAR = 365.0 * 86_400.0


@dataclass(frozen=True, slots=True)
class PriceModelParameters:
    """Knobs of the price process; the defaults give realistic crypto volatility."""

    volatility_scale: float = 1.0
    market_annual_volatility: float = 0.5
    asset_annual_volatility: tuple[float, float] = (0.3, 0.9)
    market_beta: tuple[float, float] = (0.6, 1.4)
    regime_volatility: tuple[float, ...] = (0.5, 1.0, 2.5)
    regime_mean_seconds: tuple[float, ...] = (240.0, 300.0, 60.0)
    jumps_per_asset_per_hour: float = 1.0
    jump_log_std: float = 0.015
    fiat_annual_volatility: float = 0.08
    stable_noise: float = 2e-4
    stable_reversion_seconds: float = 30.0


class SharedPriceModel:
    """True USD log prices of every asset, stepped in simulated time."""

    def __init__(self, assets: AssetTable, seed: int, parameters: PriceModelParameters | None = None) -> None:
        self.parameters = parameters or PriceModelParameters()
        p = self.parameters
        self._rng = np.random.default_rng(stable_seed("prices", seed))
        n = len(assets.names)
        self.log_usd = np.log(assets.usd_prices).astype(np.float64)
        self._kinds = assets.kinds
        self._crypto = assets.kinds == ASSET_CRYPTO
        self._fiat = assets.kinds == ASSET_FIAT
        self._stable = assets.kinds == ASSET_STABLE
        self._stable_anchor = self.log_usd.copy()
        self._vol = self._rng.uniform(*p.asset_annual_volatility, size=n) / math.sqrt(SECONDS_PER_YEAR)
        self._beta = self._rng.uniform(*p.market_beta, size=n)
        self._market_vol = p.market_annual_volatility / math.sqrt(SECONDS_PER_YEAR)
        self._fiat_vol = p.fiat_annual_volatility / math.sqrt(SECONDS_PER_YEAR)
        self.regime = 1
        self.jumped = np.zeros(0, dtype=np.int64)

    def step(self, dt_s: float) -> None:
        """Advance every asset by ``dt_s`` seconds; :attr:`jumped` lists the assets that jumped."""
        p, rng = self.parameters, self._rng
        self._maybe_switch_regime(dt_s)
        scale = p.volatility_scale * p.regime_volatility[self.regime] * math.sqrt(dt_s)
        shocks = rng.standard_normal(len(self.log_usd) + 1)
        market = shocks[-1] * self._market_vol * scale
        own = shocks[:-1]
        crypto_move = (self._beta * market + own * self._vol * scale) * self._crypto
        fiat_move = own * self._fiat_vol * math.sqrt(dt_s) * p.volatility_scale * self._fiat
        reversion = min(1.0, dt_s / p.stable_reversion_seconds)
        stable_move = (
            (self._stable_anchor - self.log_usd) * reversion + own * p.stable_noise * math.sqrt(2 * reversion)
        ) * self._stable
        self.log_usd += crypto_move + fiat_move + stable_move
        self.jumped = np.flatnonzero((rng.random(len(self.log_usd)) < p.jumps_per_asset_per_hour * dt_s / 3600.0) & self._crypto)
        if self.jumped.size:
            self.log_usd[self.jumped] += rng.normal(0.0, p.jump_log_std * p.volatility_scale, size=self.jumped.size)

    def _maybe_switch_regime(self, dt_s: float) -> None:
        p = self.parameters
        if self._rng.random() < dt_s / p.regime_mean_seconds[self.regime]:
            others = [r for r in range(len(p.regime_volatility)) if r != self.regime]
            self.regime = others[int(self._rng.integers(len(others)))]


class VenuePriceNoise:
    """One exchange's deviation from the true price of each of its instruments (mean-reverting, in log)."""

    def __init__(self, count: int, seed: int, exchange: str, noise_bps: float = 4.0, half_life_s: float = 20.0) -> None:
        self._rng = np.random.default_rng(stable_seed("venue-noise", exchange, seed))
        self._std = noise_bps * 1e-4
        self._half_life = half_life_s
        self.log_noise = self._rng.normal(0.0, self._std, size=count)

    def step(self, dt_s: float) -> None:
        keep = 0.5 ** (dt_s / self._half_life)
        innovation = self._std * math.sqrt(1.0 - keep * keep)
        self.log_noise = self.log_noise * keep + self._rng.standard_normal(len(self.log_noise)) * innovation
