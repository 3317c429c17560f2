"""How ``ref.instrument`` follows a venue's listing: an instrument published as active that the
venue no longer offers is published again, once, with ``active=False``.

Ingestion publishes what the venue lists as trading each time it starts; nothing else would
ever say that an instrument went away (halted, suspended or delisted), so at start it also
compares what was published for its exchange before with the listing it just loaded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import msgspec

from platform_streams.normalisation.instrument_catalog import InstrumentCatalog
from platform_streams.runtime.side_inputs import SideInput, SideInputReader
from platform_streams.schemas import Instrument, TypedDecoder


def withdrawn_instruments(published: Iterable[Instrument], listed_symbols: Collection[str]) -> list[Instrument]:
    """The instruments of ``published`` (one exchange's latest records) still marked active whose
    symbol is not in ``listed_symbols`` (what the venue offers now), as they were but inactive.

    Instruments already inactive are left alone, so a withdrawal is published once, not at every
    start. An empty listing withdraws nothing: a venue answering with no instruments at all is
    broken, not empty, and marking everything inactive would stop every strategy on it."""
    if not listed_symbols:
        return []
    return [
        msgspec.structs.replace(instrument, active=False)
        for instrument in published
        if instrument.active and instrument.symbol not in listed_symbols
    ]


def read_published_instruments(bootstrap_servers: str, topic: str, exchange: str, timeout_s: float = 30.0) -> list[Instrument]:
    """The latest record of every instrument of ``exchange`` on the compacted instrument ``topic``."""
    catalog = InstrumentCatalog()
    reader = SideInputReader(bootstrap_servers, [SideInput(topic, TypedDecoder(Instrument).decode)], f"listing-{exchange}")
    try:
        if not reader.catch_up(lambda records: catalog.apply(records.get(topic, [])), timeout_s):
            raise TimeoutError(f"{topic} could not be read to its end within {timeout_s:.0f}s")
    finally:
        reader.close()
    registry = catalog.registries.get(exchange)
    return list(registry) if registry is not None else []
