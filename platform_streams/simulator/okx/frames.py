"""OKX v5 public push data and event frames, rendered straight to bytes in the key order of the real frames.

Shapes follow the captures in ``data/exchanges/okx/`` (``{"arg":{...},"data":[...]}``,
books with ``action``); what OKX added since those captures is added as OKX documents
it: ``prevSeqId``/``seqId`` after ``checksum`` in books, ``seqId`` in ``bbo-tbt``,
``connId`` in event replies. Numbers are exact text from the caller.
"""

from __future__ import annotations

import orjson


def _arg(channel: bytes, inst_id: bytes) -> bytes:
    return b'{"arg":{"channel":"%b","instId":"%b"}' % (channel, inst_id)


def trade(inst_id: bytes, trade_id: int, price: bytes, size: bytes, side: bytes, ts_ms: int) -> bytes:
    return (
        b'{"arg":{"channel":"trades","instId":"%b"},"data":[{"instId":"%b","tradeId":"%d","px":"%b","sz":"%b","side":"%b","ts":"%d"}]}'
        % (inst_id, inst_id, trade_id, price, size, side, ts_ms)
    )


def book(
    inst_id: bytes, action: bytes, asks: bytes, bids: bytes, ts_ms: int, checksum: int, prev_seq_id: int, seq_id: int
) -> bytes:
    return (
        b'{"arg":{"channel":"books","instId":"%b"},"action":"%b","data":[{"asks":%b,"bids":%b,"ts":"%d","checksum":%d,'
        b'"prevSeqId":%d,"seqId":%d}]}' % (inst_id, action, asks, bids, ts_ms, checksum, prev_seq_id, seq_id)
    )


def best_bid_offer(inst_id: bytes, ask: bytes, bid: bytes, ts_ms: int, seq_id: int) -> bytes:
    return b'{"arg":{"channel":"bbo-tbt","instId":"%b"},"data":[{"asks":%b,"bids":%b,"ts":"%d","seqId":%d}]}' % (
        inst_id,
        ask,
        bid,
        ts_ms,
        seq_id,
    )


def ticker(inst_id: bytes, fields: list[bytes], ts_ms: int) -> bytes:
    """``fields``: last, lastSz, askPx, askSz, bidPx, bidSz, open24h, high24h, low24h, sodUtc0, sodUtc8, volCcy24h, vol24h."""
    return (
        b'%b,"data":[{"instType":"SPOT","instId":"%b","last":"%b","lastSz":"%b","askPx":"%b","askSz":"%b","bidPx":"%b",'
        b'"bidSz":"%b","open24h":"%b","high24h":"%b","low24h":"%b","sodUtc0":"%b","sodUtc8":"%b","volCcy24h":"%b",'
        b'"vol24h":"%b","ts":"%d"}]}' % (_arg(b"tickers", inst_id), inst_id, *fields, ts_ms)
    )


def candle_row(open_ms: int, fields: list[bytes], confirmed: bool) -> bytes:
    """``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` as OKX sends it, every value a string."""
    return b'["%d","%b","%b","%b","%b","%b","%b","%b","%b"]' % (open_ms, *fields, b"1" if confirmed else b"0")


def candle(inst_id: bytes, row: bytes) -> bytes:
    return b'%b,"data":[%b]}' % (_arg(b"candle1m", inst_id), row)


def event(name: str, channel: str, inst_id: str, conn_id: str, request_id: str | None) -> bytes:
    """A ``subscribe``/``unsubscribe`` acknowledgement (with the request ``id`` first when the client sent one)."""
    body: dict[str, object] = {"id": request_id} if request_id is not None else {}
    body.update({"event": name, "arg": {"channel": channel, "instId": inst_id}, "connId": conn_id})
    return orjson.dumps(body)


def error(code: str, message: str, conn_id: str, request_id: str | None) -> bytes:
    body: dict[str, object] = {"id": request_id} if request_id is not None else {}
    body.update({"event": "error", "code": code, "msg": message, "connId": conn_id})
    return orjson.dumps(body)
