"""The host daemon's ``handle`` on recorded messages (no consumer loop): garbage is dead-lettered,
order-book deltas pass by, and a strategy that returns a stray intent or cannot give its state is
stopped while the others' intents and snapshots go out."""

from __future__ import annotations

from platform_streams.schemas import BookDelta, StrategyIntent, StrategySnapshot, TypedDecoder, decode, encode
from platform_streams.strategy_host.daemon import StrategyHostDaemon, StrategyHostSettings
from platform_streams.strategy_host.hosted_deployment import DeploymentState
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from tests.strategies.market import instrument, trade

BTC = "binance:BTC/USDT"
STRATEGIES = "tests.strategy_host.misbehaving_strategies"


class RecordedMessage:
    """What ``handle`` reads of a consumed record."""

    def __init__(
        self,
        topic: str,
        offset: int,
        value: bytes,
        partition: int = 0,
        headers: list[tuple[str, bytes]] | None = None,
        key: bytes | None = None,
    ) -> None:
        self._topic, self._offset, self._value, self._partition = topic, offset, value, partition
        self._headers, self._key = headers, key

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def key(self) -> bytes | None:
        return self._key

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers


def host(kafka_bootstrap: str, *deployments: tuple[str, str, str]) -> StrategyHostDaemon:
    specs = [
        StrategyDeploymentSpec(
            id=id, strategy=f"{STRATEGIES}:{cls}", instruments=[BTC], account=account, parameters={"fail_on": 1_000}
        )
        for id, cls, account in deployments
    ]
    daemon = StrategyHostDaemon(
        StrategyHostSettings(
            name="host-handle-test",
            bootstrap_servers=kafka_bootstrap,
            metrics_port=-1,
            deployments=specs,
            snapshot_interval_s=3_600,
        )
    )
    daemon.on_side_input(daemon.settings.instrument_topic, [instrument()])
    return daemon


def test_garbage_is_a_dead_letter_and_book_deltas_pass_by(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap, ("counter", "RaisingStrategy", "a1"))
    delta = BookDelta("binance", "BTC/USDT", 1, 1, 1, 1, 0, [], [], 2, 4)
    outputs = list(
        daemon.handle(
            [
                RecordedMessage("md.trade", 0, b"\x93garbage"),
                RecordedMessage("md.book", 0, encode(delta)),
                RecordedMessage("md.trade", 1, encode(trade(100_00, 1, 1))),
            ]
        )  # type: ignore[list-item]
    )
    assert [o.topic for o in outputs] == ["md.deadletter", "strat.intent"]
    assert "cannot decode" in decode(outputs[0].value).reason


def test_records_of_instruments_no_deployment_reads_are_skipped_undecoded(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap, ("counter", "RaisingStrategy", "a1"))
    outputs = list(
        daemon.handle(
            [
                RecordedMessage("md.trade", 0, b"\x93garbage", key=b"binance:ETH/USDT"),  # not read: no dead letter
                RecordedMessage("md.trade", 1, b"\x93garbage", key=BTC.encode()),
                RecordedMessage("md.trade", 2, encode(trade(100_00, 1, 1)), key=BTC.encode()),
                RecordedMessage("exec.fill", 0, b"\x93garbage", key=b"a1"),  # the deployment's account: read
            ]
        )  # type: ignore[list-item]
    )
    assert [o.topic for o in outputs] == ["md.deadletter", "strat.intent", "md.deadletter"]
    assert daemon._next_offsets[("md.trade", 0)] == 3  # skipped records still count as read (snapshots' offsets)


def test_a_stray_intent_stops_its_deployment_and_the_other_goes_on(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap, ("stray", "StrayIntentStrategy", "a1"), ("counter", "RaisingStrategy", "a2"))
    first = list(daemon.handle([RecordedMessage("md.trade", 0, encode(trade(100_00, 1, 1)))]))  # type: ignore[list-item]
    second = list(daemon.handle([RecordedMessage("md.trade", 1, encode(trade(100_00, 1, 2)))]))  # type: ignore[list-item]
    assert sorted(TypedDecoder(StrategyIntent).decode(o.value).deployment for o in first) == ["counter", "stray"]
    assert [TypedDecoder(StrategyIntent).decode(o.value).deployment for o in second] == ["counter"]
    stray = daemon.fanout.deployments["stray"]
    assert stray.state is DeploymentState.FAILED
    assert stray.error == "ValueError: intent for 'binance:DOGE/USDT', which is not one of the deployment's instruments"
    assert daemon.last_error.startswith("deployment stray: ValueError")


def test_a_strategy_that_cannot_give_its_state_is_stopped_and_the_others_are_snapshot(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap, ("stateless", "StatelessStrategy", "a1"), ("counter", "RaisingStrategy", "a2"))
    list(daemon.handle([RecordedMessage("md.trade", 4, encode(trade(100_00, 1, 1)), partition=2)]))  # type: ignore[list-item]
    snapshots = [TypedDecoder(StrategySnapshot).decode(o.value) for o in daemon.snapshots()]
    assert [(s.deployment, [(o.topic, o.partition, o.offset) for o in s.input_offsets]) for s in snapshots] == [
        ("counter", [("md.trade", 2, 5)])
    ]
    assert daemon.fanout.deployments["stateless"].error == "RuntimeError: no state today"
