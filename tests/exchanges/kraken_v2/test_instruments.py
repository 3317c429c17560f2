"""AssetPairs → the v2 venue's instruments: v2 names (BTC/USD) with every other Kraken name as an alias."""

from __future__ import annotations

from platform_streams.exchanges.instruments import InstrumentRegistry


def test_v2_names_are_the_common_asset_codes(krakenv2_instruments: InstrumentRegistry) -> None:
    btc = krakenv2_instruments.by_symbol("BTC/USD")
    assert (btc.exchange, btc.exchange_symbol, btc.price_scale, btc.size_scale) == ("krakenv2", "BTC/USD", 1, 8)
    assert set(btc.aliases) == {"XXBTZUSD", "XBTUSD", "XBT/USD"}
    assert krakenv2_instruments["XBT/USD"] is btc and krakenv2_instruments["BTC/USD"] is btc
    doge = krakenv2_instruments.by_symbol("DOGE/USD")
    assert doge.exchange_symbol == "DOGE/USD" and "XDG/USD" in doge.aliases
    eth = krakenv2_instruments.by_symbol("ETH/USD")
    assert (eth.price_scale, eth.size_scale) == (2, 8)
