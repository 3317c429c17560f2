"""Type stubs of the Rust extension ``tradeplat_native`` (built from ``native/src/`` by ``make native``)."""

from collections.abc import Callable

class MalformedTrade(ValueError):
    """A trade frame whose price, quantity or time has no exact canonical value."""

class BinanceTradeParser:
    """Binance ``trade``/``aggTrade`` frames → ``(key, encoded canonical Trade)``.

    ``resolve_symbol(exchange_symbol, price_text, size_text)`` returns
    ``(symbol, price_scale, size_scale, remember)``; it is called once per exchange symbol
    (every time while ``remember`` is False) and its exceptions propagate unchanged."""

    def __init__(self, exchange: str, resolve_symbol: Callable[[str, str, str], tuple[str, int, int, bool]]) -> None: ...
    def parse(self, frame: bytes, receive_ts_ns: int) -> tuple[str, bytes] | None:
        """``(key, encoded Trade)`` of a trade frame, None for a frame it does not take; raises :class:`MalformedTrade`."""
    def __len__(self) -> int:
        """How many exchange symbols have their scales remembered."""
