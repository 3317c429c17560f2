"""Client-side books and checksums for OKX v5 and Kraken v1, written for the tests, independent of the simulator.

The CRC32 here is a table-driven implementation of the standard reflected CRC-32
(polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF), not ``zlib``; the
books keep each level's price and size text exactly as received and sort by its
exact decimal value. The same code verifies the simulator's frames and the real
captures' (``data/exchanges/okx``, ``data/exchanges/kraken``).
"""

from __future__ import annotations

from decimal import Decimal


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32(data: bytes) -> int:
    """The unsigned CRC-32 of ``data``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class TextBook:
    """Bids and asks keyed by exact price, each level holding the (price, size) text as received."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, tuple[str, str]] = {}
        self.asks: dict[Decimal, tuple[str, str]] = {}

    def set(self, is_bid: bool, price: str, size: str) -> None:
        side = self.bids if is_bid else self.asks
        if Decimal(size) == 0:
            side.pop(Decimal(price), None)
        else:
            side[Decimal(price)] = (price, size)

    def best_bids(self, count: int | None = None) -> list[tuple[str, str]]:
        return [self.bids[p] for p in sorted(self.bids, reverse=True)[:count]]

    def best_asks(self, count: int | None = None) -> list[tuple[str, str]]:
        return [self.asks[p] for p in sorted(self.asks)[:count]]

    def truncate(self, depth: int) -> None:
        for side, keep in ((self.bids, sorted(self.bids, reverse=True)[:depth]), (self.asks, sorted(self.asks)[:depth])):
            for price in set(side) - set(keep):
                del side[price]

    def crossed(self) -> bool:
        return bool(self.bids and self.asks) and max(self.bids) >= min(self.asks)


def okx_checksum(book: TextBook) -> int:
    """OKX v5: up to 25 levels, ``bidPx:bidSz:askPx:askSz`` interleaved, CRC32 as a signed 32-bit integer."""
    bids, asks = book.best_bids(25), book.best_asks(25)
    parts: list[str] = []
    for k in range(25):
        if k < len(bids):
            parts += bids[k]
        if k < len(asks):
            parts += asks[k]
    value = crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


def kraken_checksum(book: TextBook) -> int:
    """Kraken v1: top 10 asks then top 10 bids, price and volume text without '.' and leading zeros; unsigned."""
    text = "".join(part.replace(".", "").lstrip("0") for level in book.best_asks(10) + book.best_bids(10) for part in level)
    return crc32(text.encode())


class OkxBookError(AssertionError):
    """An OKX book message that breaks the seqId chain or whose checksum does not match."""


class OkxClientBook:
    """An OKX ``books`` client: snapshot, then updates chained by prevSeqId/seqId when present, checksum on each."""

    def __init__(self) -> None:
        self.book = TextBook()
        self.seq_id: int | None = None
        self.checksums_verified = 0

    def apply(self, message: dict) -> None:
        data = message["data"][0]
        if message["action"] == "snapshot":
            self.book = TextBook()
        elif "prevSeqId" in data and data["prevSeqId"] != self.seq_id:
            raise OkxBookError(f"gap: prevSeqId {data['prevSeqId']} after seqId {self.seq_id}")
        for is_bid, key in ((True, "bids"), (False, "asks")):
            for price, size, *_ in data[key]:
                self.book.set(is_bid, price, size)
        self.seq_id = data.get("seqId")
        if okx_checksum(self.book) != data["checksum"]:
            raise OkxBookError(f"checksum {data['checksum']} != {okx_checksum(self.book)} at seqId {self.seq_id}")
        self.checksums_verified += 1


class KrakenClientBook:
    """A Kraken v1 ``book`` client: snapshot, updates in order, truncation to the depth, checksum ``c`` on each update."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.book = TextBook()
        self.checksums_verified = 0

    def apply(self, frame: list) -> None:
        parts = [part for part in frame[1:-2] if isinstance(part, dict)]
        if any("as" in part for part in parts):
            self.book = TextBook()
            for part in parts:
                for price, volume, *_ in part.get("as", []):
                    self.book.set(False, price, volume)
                for price, volume, *_ in part.get("bs", []):
                    self.book.set(True, price, volume)
            return
        checksum = None
        for part in parts:
            for price, volume, *_ in part.get("a", []):
                self.book.set(False, price, volume)
            for price, volume, *_ in part.get("b", []):
                self.book.set(True, price, volume)
            checksum = part.get("c", checksum)
        self.book.truncate(self.depth)
        assert checksum is not None, f"update without checksum: {frame}"
        assert kraken_checksum(self.book) == int(checksum), f"checksum {checksum} != {kraken_checksum(self.book)}"
        self.checksums_verified += 1
