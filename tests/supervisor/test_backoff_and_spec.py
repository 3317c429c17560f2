import json
from collections import Counter

import pytest

from platform_streams.cli.commands_stack import DEFAULT_DEPLOYMENTS
from platform_streams.settings import ConfigError
from platform_streams.supervisor.backoff import RestartBackoff, RestartBudget
from platform_streams.supervisor.spec import RestartPolicy, combine_specs, load_spec, parse_spec


def test_backoff_doubles_up_to_a_cap_and_resets_after_a_stable_run() -> None:
    backoff = RestartBackoff(initial_s=1, max_s=8, stable_s=60)
    assert [backoff.next_delay(ran_for_s=1) for _ in range(5)] == [1, 2, 4, 8, 8]
    assert backoff.next_delay(ran_for_s=120) == 1
    backoff.next_delay(ran_for_s=1)
    backoff.forgive()
    assert backoff.next_delay(ran_for_s=1) == 1


def test_restart_budget_allows_so_many_restarts_in_any_window() -> None:
    budget = RestartBudget(max_restarts=3, window_s=60)
    assert [budget.spend(t) for t in (0, 10, 20)] == [True, True, True]
    assert budget.spend(30) is False  # a fourth crash within the minute: spent
    assert budget.spend(61) is True  # the crash at 0 has left the window
    assert budget.spend(62) is False
    assert RestartBudget(0, 60).spend(0) is False
    with pytest.raises(ValueError):
        RestartBudget(1, 0)


def valid_spec() -> dict:
    return {
        "name": "d",
        "daemons": [{"name": "p", "kind": "passthrough", "replicas": 2, "config": {"inputs": ["a"], "output": "b"}}],
    }


def test_valid_spec() -> None:
    spec = parse_spec(valid_spec())
    assert spec.daemons[0].replicas == 2 and spec.daemons[0].restart is RestartPolicy.ON_FAILURE


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["daemons"][0].update(kind="nope"), "unknown daemon kind 'nope'"),
        (lambda s: s["daemons"][0]["config"].update(batch_max="x"), "batch_max"),
        (lambda s: s["daemons"][0]["config"].pop("output"), "output"),
        (lambda s: s["daemons"].append(dict(s["daemons"][0])), "used twice"),
        (lambda s: s["daemons"][0].update(replicas=-1), "replicas=-1"),
        (lambda s: s["daemons"][0].update(restart="sometimes"), "restart"),
        (lambda s: s.update(extra=1), "extra"),
    ],
)
def test_invalid_specs_fail_at_load_with_the_reason(mutate, message: str) -> None:
    spec = valid_spec()
    mutate(spec)
    with pytest.raises(ConfigError, match=message):
        parse_spec(spec)


def test_every_shipped_deployment_spec_is_valid(repo_root) -> None:
    from platform_streams.supervisor.spec import load_spec

    specs = sorted((repo_root / "deployments").glob("*.yaml"))
    assert specs
    for path in specs:
        assert load_spec(path).daemons


def ingestion_spec(processes: int, **config) -> dict:
    return {
        "name": "d",
        "daemons": [{"name": "ingest", "kind": "ingestion", "replicas": processes, "config": {"exchange": "okx", **config}}],
    }


def test_the_supervisor_tells_each_ingestion_replica_its_shard(tmp_path) -> None:
    from platform_streams.supervisor.process_supervisor import Supervisor

    supervisor = Supervisor(parse_spec(ingestion_spec(3)), {}, tmp_path)
    settings = [json.loads(replica.command()[-1]) for replica in supervisor.replicas]
    assert [(s["instance"], s["replica"], s["replicas"]) for s in settings] == [
        ("ingest-0", 0, 3),
        ("ingest-1", 1, 3),
        ("ingest-2", 2, 3),
    ]
    # one process may still run one shard of a plan spread over hosts
    (single,) = Supervisor(parse_spec(ingestion_spec(1, replica=1, replicas=4)), {}, tmp_path).replicas
    assert json.loads(single.command()[-1])["replica"] == 1
    # kinds that share a consumer group instead are not given a shard
    (copy, _) = Supervisor(parse_spec(valid_spec()), {}, tmp_path).replicas
    assert "replica" not in json.loads(copy.command()[-1])


def test_a_shard_set_by_hand_on_replicated_ingestion_is_rejected() -> None:
    with pytest.raises(ConfigError, match="supervisor sets `replica` and `replicas`"):
        parse_spec(ingestion_spec(2, replicas=2))


def test_the_default_deployments_combine_into_one_with_the_trading_daemons() -> None:
    """`tradeplat up` runs market data and trading as one deployment (one supervisor, one status view)."""
    combined = combine_specs([load_spec(path) for path in DEFAULT_DEPLOYMENTS])
    assert combined.name == "market-data+trading"
    kinds = Counter(daemon.kind for daemon in combined.daemons)
    assert kinds["exchange-simulator"] == 1 and kinds["strategy-host"] == 1 and kinds["risk"] == 1
    executions = [d.config for d in combined.daemons if d.kind == "execution"]
    live = {c["exchange"] for c in executions if c.get("mode", "live") == "live"}
    assert live == {"binance", "okx", "kraken"} and all(c["simulator_keys"] for c in executions if "rest_url" in c)
    assert any(c.get("mode") == "paper" for c in executions)


def test_a_daemon_name_in_two_combined_deployments_is_refused() -> None:
    one = parse_spec(
        {"name": "one", "daemons": [{"name": "copy", "kind": "passthrough", "config": {"inputs": ["a"], "output": "b"}}]}
    )
    two = parse_spec(
        {"name": "two", "daemons": [{"name": "copy", "kind": "passthrough", "config": {"inputs": ["b"], "output": "c"}}]}
    )
    with pytest.raises(ConfigError, match="'copy' is used by deployments 'one' and 'two'"):
        combine_specs([one, two])
    assert combine_specs([one]) is one
