"""Every exchange's instruments, kept current from ``ref.instrument`` records (the normalisation
daemon's side input: the runtime reads the compacted topic and hands its records here)."""

from __future__ import annotations

from collections.abc import Iterable

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.schemas import Instrument


class InstrumentCatalog:
    """Registries per exchange, built from instrument records in topic order (no I/O)."""

    def __init__(self) -> None:
        self.registries: dict[str, InstrumentRegistry] = {}

    def apply(self, instruments: Iterable[Instrument | None]) -> set[str]:
        """Add or replace each instrument (None, a tombstone, changes nothing); returns the
        exchanges whose instruments changed."""
        changed: set[str] = set()
        for instrument in instruments:
            if instrument is None:
                continue
            registry = self.registries.setdefault(instrument.exchange, InstrumentRegistry(instrument.exchange))
            if registry.get_symbol(instrument.symbol) != instrument:
                registry.add(instrument)
                changed.add(instrument.exchange)
        return changed
