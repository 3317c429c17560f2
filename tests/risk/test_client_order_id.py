"""The client order id: deterministic, different per intent, and valid on Binance, OKX and Kraken."""

from __future__ import annotations

import re
import uuid

from platform_streams.risk.client_order_id import client_order_id, deployment_tag, epoch_of, tag_of

BINANCE = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
OKX = re.compile(r"[A-Za-z0-9]{1,32}")


def test_same_intent_same_id_and_other_intents_other_ids() -> None:
    assert client_order_id("ema-1", "bbo:binance:BTC/USDT:42") == client_order_id("ema-1", "bbo:binance:BTC/USDT:42")
    ids = {client_order_id("ema-1", f"intent-{n}") for n in range(10_000)}
    assert len(ids) == 10_000
    assert client_order_id("ema-1", "x") != client_order_id("ema-2", "x")


def test_id_is_valid_on_every_venue() -> None:
    for n in range(2_000):
        order_id = client_order_id(f"deployment-{n % 7}", f"intent-{n}")
        assert BINANCE.fullmatch(order_id)
        assert OKX.fullmatch(order_id)
        parsed = uuid.UUID(hex=order_id)  # Kraken's short UUID form
        assert parsed.hex == order_id
        assert parsed.version == 8
        assert parsed.variant == uuid.RFC_4122


def test_id_names_its_deployment() -> None:
    order_id = client_order_id("mm-eth", "intent-7")
    assert tag_of(order_id) == deployment_tag("mm-eth")
    assert tag_of("someone-elses-order") == ""


def test_id_names_the_epoch_it_was_sent_at_and_versions_never_share_an_id() -> None:
    same_intent = [client_order_id("mm-eth", "intent-7", epoch) for epoch in (0, 1, 2, 65_537)]
    assert [epoch_of(order_id) for order_id in same_intent] == [0, 1, 2, 1]  # modulo 16**4
    assert len(set(same_intent[:3])) == 3  # N and N+1 deciding the same market event: two orders, not one
    assert all(tag_of(order_id) == deployment_tag("mm-eth") for order_id in same_intent)
    assert all(uuid.UUID(hex=order_id).version == 8 for order_id in same_intent)
    assert epoch_of("someone-elses-order") is None
