"""A bounded cache of the text of prices and sizes, per instrument, so checksums and frames do not re-render them.

A book's top levels mostly survive from one message to the next, so the same
prices and sizes are rendered again and again for every checksum; rendering each
once is most of the saving, and looking a list of them up is one ``map`` call.
Each instrument's cache is cleared when it grows past ``limit`` entries (a few
hundred: the levels near the top and the recent changes are what recur), which
bounds memory — tens of kilobytes per instrument — however long prices wander.
"""

from __future__ import annotations

from collections.abc import Callable


class NumberTextCache:
    """``render(instrument, value)`` memoised per instrument (value: price ticks or lots)."""

    def __init__(self, instruments: int, render: Callable[[int, int], bytes], limit: int = 256) -> None:
        self._render = render
        self._limit = limit
        self._caches: list[dict[int, bytes]] = [{} for _ in range(instruments)]

    def texts(self, instrument: int, values: list[int]) -> list[bytes]:
        cache = self._caches[instrument]
        if len(cache) > self._limit:
            cache.clear()
        texts = list(map(cache.get, values))
        if None in texts:  # a miss
            render = self._render
            for k in [k for k, text in enumerate(texts) if text is None]:
                value = values[k]
                texts[k] = cache[value] = render(instrument, value)
        return texts  # type: ignore[return-value]  # every None was filled

    def text(self, instrument: int, value: int) -> bytes:
        cache = self._caches[instrument]
        text = cache.get(value)
        if text is None:
            if len(cache) > self._limit:
                cache.clear()
            text = cache[value] = self._render(instrument, value)
        return text
