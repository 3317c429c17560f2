"""The tests' own checksum code verifies every book checksum in the real OKX and Kraken v1 captures.

This is what makes the simulator's checksum tests meaningful: the same CRC32 and
the same book code (``book_checksums``) accept what the exchanges really sent.
Captures: cryptofeed (bmoscon/cryptofeed; "This product includes software developed
by Bryant Moscon (http://www.bryantmoscon.com/)"); see data/exchanges/INDEX.md.
"""

from __future__ import annotations

import json
import zlib

from tests.simulator.book_checksums import KrakenClientBook, OkxClientBook, crc32
from tests.simulator.conftest import captured_frames


def test_the_crc32_is_the_standard_one() -> None:
    for data in (b"", b"a", b"123456789", bytes(range(256)) * 3):
        assert crc32(data) == zlib.crc32(data)
    assert crc32(b"123456789") == 0xCBF43926


def verify_okx_capture(file_name: str) -> tuple[int, int]:
    books: dict[tuple[str, str], OkxClientBook] = {}
    snapshots = 0
    for record, frame in captured_frames(file_name, "okx"):
        body = json.loads(frame)
        if record["dir"] != "in" or "action" not in body:
            continue
        key = (body["arg"]["channel"], body["arg"]["instId"])
        if body["action"] == "snapshot":
            snapshots += 1
        books.setdefault(key, OkxClientBook()).apply(body)
    return sum(book.checksums_verified for book in books.values()), snapshots


def test_every_okx_checksum_in_the_captures_verifies() -> None:
    verified, snapshots = verify_okx_capture("2022-02-27_cryptofeed_v5_books-l2-tbt.ws.jsonl")
    assert (verified, snapshots) == (3679, 20)
    verified, snapshots = verify_okx_capture("2022-05-13_cryptofeed_v5_books.ws.jsonl")
    assert (verified, snapshots) == (290, 3)


def test_every_kraken_v1_checksum_in_the_capture_verifies() -> None:
    books: dict[str, KrakenClientBook] = {}
    for record, frame in captured_frames("2021-04-17_cryptofeed_v1_book.ws.jsonl", "kraken"):
        body = json.loads(frame)
        if record["dir"] == "in" and isinstance(body, list):
            books.setdefault(body[-1], KrakenClientBook(depth=int(body[-2].split("-")[1]))).apply(body)
    assert len(books) == 10
    assert sum(book.checksums_verified for book in books.values()) == 4269
