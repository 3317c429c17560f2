"""Hot deploy inside one host's ``handle`` (no consumer loop): a ``ctl.strategy`` record replaces
version 1.0.0 by 1.1.0 in place — the new version takes the old one's state and positions at the
same offsets and its intents carry the new epoch — a record naming another host fences the
deployment here, and a bad spec is refused while the other deployments go on."""

from __future__ import annotations

from platform_streams.schemas import Side, StrategyIntent, StrategySnapshot, TypedDecoder, encode
from platform_streams.strategy_host.daemon import StrategyHostDaemon, StrategyHostSettings
from platform_streams.strategy_host.deployment_control import control_record
from platform_streams.strategy_host.hosted_deployment import DeploymentState
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from tests.strategies.market import bbo, fill, instrument
from tests.strategy_host.test_host_handle import RecordedMessage
from tests.strategy_host.versioned_strategies import V1, V2

BTC, ETH = "binance:BTC/USDT", "binance:ETH/USDT"
_intents = TypedDecoder(StrategyIntent)
_snapshots = TypedDecoder(StrategySnapshot)


def spec(
    version: str = V1, deployment: str = "quoter", instruments: tuple[str, ...] = (BTC,), account: str = "acct"
) -> StrategyDeploymentSpec:
    return StrategyDeploymentSpec(id=deployment, strategy=version, instruments=list(instruments), account=account)


def host(kafka_bootstrap: str, name: str = "host-a") -> StrategyHostDaemon:
    daemon = StrategyHostDaemon(
        StrategyHostSettings(
            name=name,
            bootstrap_servers=kafka_bootstrap,
            metrics_port=-1,
            snapshot_interval_s=3_600,
            deployments=[spec(), spec(deployment="other", instruments=(ETH,))],
        )
    )
    daemon.on_side_input(daemon.settings.instrument_topic, [instrument(), instrument(symbol="ETH/USDT")])
    daemon.on_side_input(daemon.settings.state_topic, [])
    return daemon


def tops(daemon: StrategyHostDaemon, first_offset: int, count: int, key: str = BTC) -> list[StrategyIntent]:
    outputs = daemon.handle(
        [
            RecordedMessage("md.bbo", first_offset + i, encode(bbo(100_00, 100_10, first_offset + i, key=key)))
            for i in range(count)
        ]  # type: ignore[misc]
    )
    return [_intents.decode(o.value) for o in outputs if o.topic == daemon.settings.output]


def test_a_replacement_in_place_carries_state_and_positions_over_and_stamps_the_new_epoch(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap)
    before = tops(daemon, 0, 3)
    assert [(i.reason, i.epoch) for i in before] == [("1.0.0 top 1", 0), ("1.0.0 top 2", 0), ("1.0.0 top 3", 0)]
    daemon.handle([RecordedMessage("exec.fill", 0, encode(fill(Side.BUY, 100_00, 3, 1)))])  # type: ignore[list-item]
    old = daemon.fanout.deployments["quoter"]
    assert old.driver.context.position(BTC) == 3

    daemon.on_side_input(daemon.settings.control_topic, [control_record(spec(V2), "host-a", 1, True, "ops", 1)])
    new = daemon.fanout.deployments["quoter"]
    assert new is not old and old.state is DeploymentState.STOPPED and new.state is DeploymentState.RUNNING
    assert new.driver.strategy.version == "1.1.0" and new.driver.context.position(BTC) == 3
    after = tops(daemon, 3, 2)
    assert [(i.reason, i.epoch, i.strategy_version) for i in after] == [("1.1.0 top 4", 1, "1.1.0"), ("1.1.0 top 5", 1, "1.1.0")]
    assert not new.catching_up  # same host, same offsets: nothing to replay, no gap
    # the new version's snapshot is of its own state layout, and covers what was read
    (snapshot,) = [s for s in map(_snapshots.decode, (o.value for o in daemon.snapshots())) if s.deployment == "quoter"]
    assert snapshot.strategy_version == "1.1.0" and snapshot.instrument_positions == {BTC: 3}


def test_a_record_naming_another_host_fences_the_deployment_here_and_the_others_go_on(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap)
    tops(daemon, 0, 2)
    daemon.on_side_input(daemon.settings.control_topic, [control_record(spec(V2), "host-b", 1, True, "ops", 1)])
    assert daemon.fanout.deployments["quoter"].state is DeploymentState.STOPPED
    assert tops(daemon, 2, 3) == []  # no more events, no more intents
    assert [i.deployment for i in tops(daemon, 0, 1, key=ETH)] == ["other"]
    assert [_snapshots.decode(o.value).deployment for o in daemon.snapshots()] == ["other"]  # fenced: no snapshot either
    # a record read again, or an older one, changes nothing
    daemon.on_side_input(daemon.settings.control_topic, [control_record(spec(V1), "host-a", 0, True, "ops", 0)])
    assert daemon.fanout.deployments["quoter"].state is DeploymentState.STOPPED
    # handed back to this host later: started again from the deployment's latest snapshot
    daemon.on_side_input(daemon.settings.control_topic, [control_record(spec(V1), "host-a", 2, True, "ops", 2)])
    assert [(i.epoch, i.deployment) for i in tops(daemon, 5, 1)] == [(2, "quoter")]


def test_a_deployment_started_at_run_time_and_a_bad_spec_refused(kafka_bootstrap) -> None:
    daemon = host(kafka_bootstrap)
    taken = spec(V2, deployment="twin", instruments=(ETH,))  # "other" trades ETH on this account already
    added = spec(V2, deployment="late", instruments=(ETH,), account="acct3")
    bad = StrategyDeploymentSpec(id="bad", strategy=V1, instruments=[BTC], account="acct2", parameters={"every": 0})
    daemon.on_side_input(
        daemon.settings.control_topic,
        [control_record(r, "host-a", 1, True, "ops", 1) for r in (added, bad, taken)],
    )
    assert "deployment 'other' already trades binance:ETH/USDT on account 'acct'" in daemon.refused["twin"]
    assert "parameter 'every' = 0 is below its minimum 1" in daemon.refused["bad"]
    assert sorted((i.deployment, i.epoch) for i in tops(daemon, 0, 1, key=ETH)) == [("late", 1), ("other", 0)]
    daemon.on_side_input(daemon.settings.control_topic, [control_record(added, "host-a", 2, False, "ops", 2)])
    assert [i.deployment for i in tops(daemon, 1, 1, key=ETH)] == ["other"]  # stopped
