"""Public REST of the simulated OKX and Kraken: instruments / AssetPairs shaped like the real responses, books, candles.

Real bodies: data/exchanges/okx/*instruments.rest.jsonl and
data/exchanges/kraken/*AssetPairs.rest.jsonl (cryptofeed: "This product includes
software developed by Bryant Moscon (http://www.bryantmoscon.com/)"); OHLC and
candles are compared with the exchanges' documented examples.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from platform_streams.simulator import SimulatorThread
from tests.simulator.conftest import captured_frames
from tests.simulator.frame_shapes import assert_same_shape

DOCUMENTED_OKX_CANDLES = {"code": "0", "data": [["1597026383085", "3.721", "3.743", "3.677", "3.708", "8422410", "22698348.04828491", "12698348.04828491", "0"]], "msg": ""}  # fmt: skip
DOCUMENTED_KRAKEN_OHLC = {"error": [], "result": {"XXBTZUSD": [[1688671200, "30306.1", "30306.2", "30305.7", "30305.7", "30306.1", "3.39243896", 23]], "last": 1688672160}}  # fmt: skip


@pytest.fixture(scope="module")
def simulator() -> Any:
    from tests.simulator.conftest import make_config

    with SimulatorThread(make_config(exchanges=["okx", "kraken"], clock="manual")) as running:
        running.step(300)
        yield running


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def real_body(exchange: str, file_name: str, url_part: str) -> Any:
    for record, frame in captured_frames(file_name, exchange):
        if record["dir"] == "rest" and url_part in record.get("url", ""):
            return json.loads(frame)
    raise AssertionError(f"no {url_part} body in {file_name}")


def test_okx_instruments_have_the_real_shape(simulator: SimulatorThread) -> None:
    rest = simulator.urls["okx"].rest
    status, body = get(f"{rest}/api/v5/public/instruments?instType=SPOT")
    mine = json.loads(body)
    real = real_body("okx", "2022-05-13_cryptofeed_instruments.rest.jsonl", "instType=SPOT")
    assert status == 200 and list(mine) == list(real) and len(mine["data"]) == 30
    for entry in mine["data"]:
        assert_same_shape(entry, real["data"][0])
    one = json.loads(get(f"{rest}/api/v5/public/instruments?instType=SPOT&instId={mine['data'][0]['instId']}")[1])
    assert one["data"] == mine["data"][:1]
    assert json.loads(get(f"{rest}/api/v5/public/instruments")[1])["code"] == "50014"
    assert json.loads(get(f"{rest}/api/v5/public/instruments?instType=SPOT&instId=NOPE-USDT")[1])["code"] == "51001"


def test_okx_books_and_candles(simulator: SimulatorThread) -> None:
    rest = simulator.urls["okx"].rest
    inst_id = simulator.call(lambda: simulator.simulator.venues["okx"].instruments.names[0])
    book = json.loads(get(f"{rest}/api/v5/market/books?instId={inst_id}&sz=400")[1])
    assert book["code"] == "0" and list(book["data"][0]) == ["asks", "bids", "ts"]
    asks, bids = book["data"][0]["asks"], book["data"][0]["bids"]
    assert len(asks) >= 50 and len(bids) >= 50 and float(bids[0][0]) < float(asks[0][0])
    candles = json.loads(get(f"{rest}/api/v5/market/candles?instId={inst_id}&bar=1m&limit=5")[1])
    assert_same_shape(candles, DOCUMENTED_OKX_CANDLES)
    opens = [int(row[0]) for row in candles["data"]]
    assert opens == sorted(opens, reverse=True) and len(opens) == 5  # newest first
    assert candles["data"][0][8] == "0" and all(row[8] == "1" for row in candles["data"][1:])
    older = json.loads(get(f"{rest}/api/v5/market/candles?instId={inst_id}&bar=1H&after={opens[-1]}&limit=3")[1])
    assert all(int(row[0]) < opens[-1] for row in older["data"]) and len(older["data"]) == 3
    status, body = get(f"{rest}/api/v5/market/candles?instId={inst_id}&bar=7m")
    assert status == 400 and json.loads(body)["code"] == "51000"


def test_kraken_asset_pairs_have_the_real_shape(simulator: SimulatorThread) -> None:
    rest = simulator.urls["kraken"].rest
    status, body = get(f"{rest}/0/public/AssetPairs")
    mine = json.loads(body)
    real = real_body("kraken", "2021-04-17_cryptofeed_AssetPairs.rest.jsonl", "AssetPairs")
    assert status == 200 and list(mine) == list(real) and len(mine["result"]) == 30
    assert b"\\/" in body  # Kraken escapes the slash of wsname
    for entry in mine["result"].values():
        assert_same_shape(entry, real["result"]["XXBTZUSD"])
    key, first = next(iter(mine["result"].items()))
    by_altname = json.loads(get(f"{rest}/0/public/AssetPairs?pair={first['altname']}")[1])
    assert list(by_altname["result"]) == [key]
    assert json.loads(get(f"{rest}/0/public/AssetPairs?pair=NOPENOPE")[1]) == {"error": ["EQuery:Unknown asset pair"]}


def test_kraken_ohlc(simulator: SimulatorThread) -> None:
    rest = simulator.urls["kraken"].rest
    pair = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.pairs[0])
    ohlc = json.loads(get(f"{rest}/0/public/OHLC?pair={pair.altname}&interval=5")[1])
    assert list(ohlc["result"]) == [pair.key, "last"]
    assert_same_shape(
        {"error": [], "result": {"XXBTZUSD": ohlc["result"][pair.key]}},
        {"error": [], "result": {"XXBTZUSD": DOCUMENTED_KRAKEN_OHLC["result"]["XXBTZUSD"]}},
    )
    assert 1 < len(ohlc["result"][pair.key]) <= 720
    times = [row[0] for row in ohlc["result"][pair.key]]
    assert times == sorted(times) and all(b - a == 300 for a, b in zip(times, times[1:], strict=False))
    since = json.loads(get(f"{rest}/0/public/OHLC?pair={pair.wsname}&interval=5&since={times[-3]}")[1])
    assert [row[0] for row in since["result"][pair.key]] == times[-2:]
    assert json.loads(get(f"{rest}/0/public/OHLC?pair={pair.altname}&interval=7")[1]) == {"error": ["EGeneral:Invalid arguments"]}


def test_kraken_depth(simulator: SimulatorThread) -> None:
    rest = simulator.urls["kraken"].rest
    pair = simulator.call(lambda: simulator.simulator.venues["kraken"].pairs.pairs[0])
    depth = json.loads(get(f"{rest}/0/public/Depth?pair={pair.altname}&count=10")[1])
    book = depth["result"][pair.key]
    asks, bids = [Decimal(r[0]) for r in book["asks"]], [Decimal(r[0]) for r in book["bids"]]
    assert len(asks) == len(bids) == 10
    assert asks == sorted(asks) and bids == sorted(bids, reverse=True) and bids[0] < asks[0]
    assert all(len(r) == 3 and isinstance(r[2], int) and Decimal(r[1]) > 0 for r in book["asks"] + book["bids"])
    assert len(book["asks"][0][0].split(".")[1]) == pair.pair_decimals  # Kraken's fixed decimals per pair
    assert json.loads(get(f"{rest}/0/public/Depth?pair=NOPE")[1]) == {"error": ["EQuery:Unknown asset pair"]}
