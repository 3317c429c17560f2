"""Kraken's book checksum (WebSocket v1), as Kraken documents it.

The top 10 asks (ascending) then the top 10 bids (descending); for each level the
price text then the volume text, each with the decimal point removed and leading
zeros stripped, all concatenated; the CRC32 of that string, sent as an unsigned
decimal string (``"c":"974947235"``). Text is exactly what was sent.
"""

from __future__ import annotations

import zlib

CHECKSUM_LEVELS = 10


def checksum_digits(text: bytes) -> bytes:
    """A price or volume as it enters the checksum: ``"0.05120"`` → ``"5120"``."""
    return text.replace(b".", b"").lstrip(b"0")


def checksum_of_digits(ask_digits: bytes, bid_digits: bytes) -> bytes:
    """The checksum from the joined digits (price, volume, price...) of the top 10 asks ascending and top 10 bids descending."""
    return b"%d" % zlib.crc32(bid_digits, zlib.crc32(ask_digits))
