"""Order-flow arrivals of one exchange: a Poisson process with bursts, drawn one time quantum at a time.

The exchange-wide intensity is Markov-modulated (quiet / normal / burst states whose
long-run mean is one), and an instrument whose asset just jumped gets a decaying
boost, so activity clusters in time and around news the way real flow does. Each
quantum's arrivals are drawn in a handful of vectorised numpy calls: how many,
on which instruments, when within the quantum, and the uniforms/sizes the book
model turns into takers, adds and cancels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platform_streams.simulator.market.universe import stable_seed

_STATE_MULTIPLIERS = np.array([0.5, 1.0, 3.0])
_STATE_MEAN_SECONDS = np.array([8.0, 10.0, 2.0])
# With a uniform jump to another state, time spent in a state is proportional to its mean duration.
_STATE_SHARE = _STATE_MEAN_SECONDS / _STATE_MEAN_SECONDS.sum()
_NORMALISED_MULTIPLIERS = _STATE_MULTIPLIERS / float(np.dot(_STATE_SHARE, _STATE_MULTIPLIERS))
_JUMP_BOOST = 20.0
_BOOST_HALF_LIFE_S = 2.0


@dataclass(frozen=True, slots=True)
class ActionDraws:
    """Arrivals of one quantum, in time order, as plain lists (the book loop indexes them per action)."""

    instruments: list[int]
    offsets_ns: list[int]
    kinds: list[float]  # uniform: taker / add / cancel
    sides: list[float]  # uniform: which side (or the taker's direction against the price pressure)
    sizes: list[float]  # lognormal multiplier of the instrument's typical size
    levels: list[int]  # geometric: distance from the touch in ticks or levels

    def __len__(self) -> int:
        return len(self.instruments)


class OrderFlow:
    """Draws the arrivals of each quantum for one exchange's instruments."""

    def __init__(self, activity: np.ndarray, rate_per_s: float, seed: int, exchange: str) -> None:
        self._rng = np.random.default_rng(stable_seed("flow", exchange, seed))
        self._activity = activity / activity.sum()
        self._cumulative = np.cumsum(self._activity)
        self._boost = np.zeros(len(activity))
        self._boosted = False
        self.rate_per_s = rate_per_s
        self.state = 1

    def boost(self, instruments: np.ndarray) -> None:
        """Instruments whose price just jumped: their share of the flow rises, then decays."""
        if instruments.size:
            self._boost[instruments] += _JUMP_BOOST
            self._boosted = True

    def draw(self, dt_ns: int) -> ActionDraws:
        rng = self._rng
        dt_s = dt_ns / 1e9
        if rng.random() < dt_s / _STATE_MEAN_SECONDS[self.state]:
            self.state = (self.state + 1 + int(rng.integers(2))) % 3
        cumulative, total = self._cumulative, 1.0
        if self._boosted:
            self._boost *= 0.5 ** (dt_s / _BOOST_HALF_LIFE_S)
            if float(self._boost.max()) < 0.01:
                self._boost[:] = 0.0
                self._boosted = False
            else:
                cumulative = np.cumsum(self._activity * (1.0 + self._boost))
                total = float(cumulative[-1])
        mean = self.rate_per_s * dt_s * _NORMALISED_MULTIPLIERS[self.state] * total
        count = int(rng.poisson(mean))
        if count == 0:
            return ActionDraws([], [], [], [], [], [])
        instruments = np.minimum(np.searchsorted(cumulative, rng.random(count) * total, side="right"), len(cumulative) - 1)
        return ActionDraws(
            instruments=instruments.tolist(),
            offsets_ns=np.sort(rng.integers(0, dt_ns, size=count)).tolist(),
            kinds=rng.random(count).tolist(),
            sides=rng.random(count).tolist(),
            sizes=rng.lognormal(0.0, 1.0, size=count).tolist(),
            levels=(rng.geometric(0.35, size=count) - 1).tolist(),
        )
