"""Every canonical event survives encode → decode unchanged; bad bytes fail clearly."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_streams.schemas import (
    EVENT_TYPES,
    EventDecodeError,
    Heartbeat,
    PartitionLag,
    Side,
    Trade,
    TypedDecoder,
    decode,
    encode,
)
from platform_streams.schemas.fixed_point import INT64_MAX, INT64_MIN

int64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
text = st.text(max_size=40)


def _strategy_for(annotation: object) -> st.SearchStrategy:
    return st.from_type(annotation)


def event_strategy(event_type: type) -> st.SearchStrategy:
    """Builds any instance of ``event_type`` with 64-bit integers (the wire's range)."""
    fields = {}
    for field in msgspec.structs.fields(event_type):
        fields[field.name] = _field_strategy(field.type)
    return st.builds(event_type, **fields)


def _field_strategy(annotation: object) -> st.SearchStrategy:
    if annotation is int:
        return int64
    if annotation is str:
        return text
    if annotation is float:  # only in control events (a heartbeat's interval), never money; NaN never equals itself
        return st.floats(allow_nan=False)
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if origin is list:
        return st.lists(_field_strategy(args[0]), max_size=5)
    if origin is dict:
        return st.dictionaries(_field_strategy(args[0]), _field_strategy(args[1]), max_size=5)
    if origin is tuple and args[-1] is Ellipsis:
        return st.lists(_field_strategy(args[0]), max_size=5).map(tuple)
    if origin is tuple:
        return st.tuples(*(_field_strategy(a) for a in args))
    if args and type(None) in args:  # Optional
        inner = next(a for a in args if a is not type(None))
        return st.none() | _field_strategy(inner)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return event_strategy(annotation)
    return st.from_type(annotation)


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_event_type_round_trips(event_type: type) -> None:
    @settings(max_examples=150, deadline=None)
    @given(event_strategy(event_type))
    def round_trip(event: object) -> None:
        payload = encode(event)
        assert decode(payload) == event
        assert TypedDecoder(event_type).decode(payload) == event

    round_trip()


def test_there_is_an_event_type_for_each_canonical_kind() -> None:
    names = {t.__name__ for t in EVENT_TYPES}
    assert names == {
        "Trade", "BookSnapshot", "BookDelta", "BookResync", "BestBidOffer", "Candle", "IndicatorValue", "StrategyIntent",
        "StrategySnapshot", "StrategyDeploymentControl", "StreamDeploymentControl",
        "OrderRequest", "CancelRequest", "RiskRejection", "RiskControl",
        "OrderEvent", "Fill", "Position", "Heartbeat", "DeadLetter", "Instrument", "SnapshotRequest",
    }  # fmt: skip


def test_tags_are_versioned_and_unique() -> None:
    tags = [t.__struct_config__.tag for t in EVENT_TYPES]
    assert len(set(tags)) == len(tags)
    assert all(tag.rsplit(".", 1)[1].isdigit() for tag in tags)


def _trade() -> Trade:
    return Trade("binance", "BTC/USDT", 1, 2, 3, "3", Side.BUY, 6_512_345, 100, 2, 8)


def test_market_event_key_is_exchange_and_symbol() -> None:
    assert _trade().key == "binance:BTC/USDT"
    assert _trade().event_id == "trade:binance:BTC/USDT:3"


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00", b"not msgpack at all", b"\x92\xa5bogus\x01", encode(_trade())[:-3], b"\x91\xa7trade.9"],
    ids=["empty", "nul", "text", "unknown-tag", "truncated", "unknown-version"],
)
def test_garbled_bytes_raise_a_clear_decode_error(payload: bytes) -> None:
    with pytest.raises(EventDecodeError, match="cannot decode .* bytes as a canonical event"):
        decode(payload)


def test_typed_decoder_rejects_other_event_types() -> None:
    from platform_streams.schemas import Heartbeat

    with pytest.raises(EventDecodeError, match="expected Heartbeat"):
        TypedDecoder(Heartbeat).decode(encode(_trade()))


def test_integers_beyond_64_bits_are_refused_on_encode() -> None:
    with pytest.raises(ValueError, match="outside 64 bits"):
        encode(Trade("x", "A/B", 0, 0, 0, "1", Side.SELL, 2**70, 1, 0, 0))


def test_prices_never_become_floats_on_the_wire() -> None:
    raw = msgspec.msgpack.decode(encode(_trade()))
    assert not any(isinstance(value, float) for value in raw)


class HeartbeatBeforeLastError(msgspec.Struct, array_like=True, frozen=True, tag="heartbeat.1", tag_field="type"):
    """``Heartbeat`` as it was before ``interval_s`` and ``last_error`` were appended."""

    daemon: str
    instance: str
    host: str
    pid: int
    ts_ns: int
    state: str
    group: str
    lags: list[PartitionLag]
    messages_in: int
    messages_out: int
    errors: int
    metrics_port: int


def test_heartbeat_fields_appended_with_defaults_decode_both_ways() -> None:
    old = HeartbeatBeforeLastError("d", "d-0", "h", 1, 2, "running", "g", [PartitionLag("t", 0, 5, 9)], 3, 4, 0, 9100)
    new = decode(msgspec.msgpack.encode(old))
    assert isinstance(new, Heartbeat) and (new.interval_s, new.last_error, new.last_error_ts_ns) == (0.0, "", 0)
    assert new.lags == old.lags and new.metrics_port == 9100
    beat = Heartbeat("d", "d-0", "h", 1, 2, "blocked", "g", [], 3, 4, 1, 9100, 5.0, "store_retry: refused", 7)
    assert msgspec.msgpack.decode(encode(beat), type=HeartbeatBeforeLastError).state == "blocked"
