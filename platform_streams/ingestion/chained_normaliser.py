"""The normaliser chained into ingestion: canonical events made from a connection's frames as they
arrive, with no broker hop between the frame and its events (``md.raw`` is still published for the
archive, replays and anyone else).

It is the same :class:`Normaliser` the normalisation daemon runs, with the instruments the
ingestion itself loaded, so a deployment that chains it runs no normaliser on those frames. The
books of this process's connections are its own: no other replica takes them over. Events that
strategies decide on (trades, tops of book) carry the ``canonical`` hop of the latency trace, from
the frame's receipt to the events handed to the producer. A frame it cannot handle is returned with
the error, for the caller to dead-letter once ``md.raw`` has the frame (the letter names the record).
No I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from platform_streams.exchanges.base import FrameError
from platform_streams.exchanges.instruments import Instrument
from platform_streams.normalisation.instrument_catalog import InstrumentCatalog
from platform_streams.normalisation.normaliser import Normaliser, NormaliserTopics
from platform_streams.runtime.output import Output
from platform_streams.schemas.raw_frames import RawFrame


class ChainedNormaliser:
    """One ingestion's frames → canonical outputs, at once, each traced event with its hop."""

    def __init__(self, topics: NormaliserTopics, resync_retry_ns: int, instruments: Iterable[Instrument]) -> None:
        self.normaliser = Normaliser(topics, resync_retry_ns, require_metadata=True)
        catalog = InstrumentCatalog()
        for exchange in catalog.apply(instruments):
            self.normaliser.set_instruments(exchange, catalog.registries[exchange])
        self.frames = 0
        self.outputs = 0
        self.refused = 0

    def handle(self, frame: RawFrame) -> tuple[list[Output], FrameError | None]:
        """The frame's canonical outputs, or none and the reason it cannot be handled (no book changed)."""
        self.frames += 1
        try:
            outputs = self.normaliser.handle(frame)
        except FrameError as error:
            self.refused += 1
            return [], error
        outputs = self.normaliser.with_canonical_hop(outputs, frame.receive_ts_ns, time.time_ns())
        self.outputs += len(outputs)
        return outputs, None

    def overdue_snapshot_requests(self, now_ns: int) -> list[Output]:
        """Snapshot requests repeated for books still down (see :meth:`Normaliser.overdue_snapshot_requests`)."""
        return self.normaliser.overdue_snapshot_requests(now_ns)

    @property
    def books(self) -> int:
        return len(self.normaliser.books())

    @property
    def resyncs(self) -> int:
        return self.normaliser.resyncs
