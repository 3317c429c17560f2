"""What a strategy may read while it decides, and nothing more: its parameters, its instruments'
trading rules, its position per instrument and the event clock. No I/O: the host (live, paper) and
the backtest runner fill it in, the same way, before each callback."""

from __future__ import annotations

from collections.abc import Mapping

from platform_streams.schemas import Instrument
from strategies.parameters import ParameterValues


class UnknownInstrument(KeyError):
    """The strategy asked for an instrument the context has no reference data for (yet)."""

    def __str__(self) -> str:
        return f"no reference data for instrument {self.args[0]!r}"


class StrategyContext:
    """The read-only view a strategy decides from.

    ``positions`` are size mantissas at each instrument's ``size_scale``, as the deployment's
    fills left them (updated before ``on_fill`` is called); ``now_ns`` is the event clock: the
    receive time of the event being handled (the same in backtest and live)."""

    __slots__ = ("deployment", "parameters", "instruments", "_reference", "_positions", "now_ns")

    def __init__(
        self,
        deployment: str,
        parameters: ParameterValues,
        instruments: tuple[str, ...],
        reference: Mapping[str, Instrument],
        positions: Mapping[str, int] | None = None,
    ) -> None:
        self.deployment = deployment
        self.parameters = parameters
        self.instruments = instruments
        self._reference = reference  # shared with the host, which keeps it current from ref.instrument
        self._positions: dict[str, int] = dict(positions or {})
        self.now_ns = 0

    def position(self, instrument: str) -> int:
        """The deployment's net position in ``instrument`` (size mantissa; 0 if it never traded it)."""
        return self._positions.get(instrument, 0)

    def instrument(self, key: str) -> Instrument:
        """Reference data of ``key`` (``exchange:symbol``): scales, tick and lot sizes."""
        try:
            return self._reference[key]
        except KeyError:
            raise UnknownInstrument(key) from None

    # -- for the driver, not for strategies -------------------------------------------------
    def add_to_position(self, instrument: str, signed_size: int) -> None:
        self._positions[instrument] = self._positions.get(instrument, 0) + signed_size

    def set_positions(self, positions: Mapping[str, int]) -> None:
        """Replace every position (a restored snapshot's)."""
        self._positions = dict(positions)

    def positions(self) -> dict[str, int]:
        return dict(self._positions)
