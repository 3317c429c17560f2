"""The supervisor's desired state: spec files changed by ctl.deployment requests, and the changes
that take the running daemons there (pure)."""

from __future__ import annotations

import json

import pytest

from platform_streams.schemas import StreamDeploymentControl
from platform_streams.settings import ConfigError
from platform_streams.supervisor.deployment_requests import refuse_secrets
from platform_streams.supervisor.desired_state import (
    CONTROL_TOPIC,
    SPEC_FILE,
    ChangeKind,
    DesiredDeployment,
    apply_request,
    control_record,
    desired_daemons,
    initial_state,
    plan_changes,
    refuse,
)
from platform_streams.supervisor.spec import DeploymentSpec, parse_spec


def copy_spec(name: str, daemon: str = "copy", replicas: int = 1, output: str = "b") -> DeploymentSpec:
    return parse_spec(
        {
            "name": name,
            "daemons": [
                {"name": daemon, "kind": "passthrough", "replicas": replicas, "config": {"inputs": ["a"], "output": output}}
            ],
        }
    )


def ingestion_spec(name: str, replicas: int) -> DeploymentSpec:
    daemon = {"name": "ingest", "kind": "ingestion", "replicas": replicas, "config": {"exchange": "okx"}}
    return parse_spec({"name": name, "daemons": [daemon]})


def request(spec: DeploymentSpec | None, name: str, revision: int, host: str = "local") -> StreamDeploymentControl:
    return control_record(spec, name, host, revision, "alice", revision * 1_000_000_000)


BASE = {"md": copy_spec("md", "normaliser")}


def test_a_request_launches_a_deployment_and_a_stop_stops_it_leaving_the_others() -> None:
    desired = initial_state(list(BASE.values()))
    desired = apply_request(desired, "extra", request(copy_spec("extra"), "extra", 1), "local", BASE)
    assert desired["extra"].running and desired["extra"].source == CONTROL_TOPIC and desired["extra"].operator == "alice"
    assert set(desired_daemons(desired)) == {"normaliser", "copy"}
    desired = apply_request(desired, "extra", request(None, "extra", 2), "local", BASE)
    assert not desired["extra"].running and desired["extra"].revision == 2
    assert desired["md"] == DesiredDeployment("md", BASE["md"], SPEC_FILE)
    assert set(desired_daemons(desired)) == {"normaliser"}


def test_a_tombstone_returns_a_spec_file_deployment_to_its_file_and_forgets_others() -> None:
    desired = initial_state(list(BASE.values()))
    desired = apply_request(desired, "md", request(copy_spec("md", "normaliser", replicas=3), "md", 1), "local", BASE)
    assert desired["md"].spec is not None and desired["md"].spec.daemons[0].replicas == 3
    desired = apply_request(desired, "extra", request(copy_spec("extra"), "extra", 2), "local", BASE)
    desired = apply_request(desired, "md", None, "local", BASE)
    desired = apply_request(desired, "extra", None, "local", BASE)
    assert desired == initial_state(list(BASE.values()))


def test_requests_for_other_hosts_are_not_run_here_and_a_move_stops_it_here() -> None:
    desired = initial_state(list(BASE.values()))
    desired = apply_request(desired, "tokyo", request(copy_spec("tokyo"), "tokyo", 1, host="tokyo-1"), "local", BASE)
    assert "tokyo" not in desired
    desired = apply_request(desired, "md", request(BASE["md"], "md", 2, host="tokyo-1"), "local", BASE)
    assert not desired["md"].running and desired["md"].host == "tokyo-1"


def test_an_old_or_repeated_request_changes_nothing() -> None:
    desired = apply_request(initial_state([]), "extra", request(copy_spec("extra", replicas=2), "extra", 5), "local", {})
    again = apply_request(desired, "extra", request(copy_spec("extra", replicas=9), "extra", 5), "local", {})
    older = apply_request(desired, "extra", request(None, "extra", 4), "local", {})
    assert again == desired and older == desired


def test_a_bad_request_is_refused_with_the_reason_and_the_deployment_runs_on_as_it_was() -> None:
    desired = apply_request(initial_state([]), "extra", request(copy_spec("extra"), "extra", 1), "local", {})
    bad = StreamDeploymentControl(
        "extra", "local", True, json.dumps({"name": "extra", "daemons": [{"name": "x", "kind": "no-such-kind"}]}).encode(),
        2, "bob", 2,
    )  # fmt: skip
    refused = apply_request(desired, "extra", bad, "local", {})
    assert refused["extra"].spec == desired["extra"].spec and refused["extra"].revision == 1
    assert "no-such-kind" in refused["extra"].error and refused["extra"].refused_revision == 2
    not_json = StreamDeploymentControl("other", "local", True, b"{", 3, "bob", 3)
    assert "not JSON" in apply_request(refused, "other", not_json, "local", {})["other"].error
    misnamed = request(copy_spec("something-else"), "other", 4)
    assert "named 'something-else'" in apply_request(refused, "other", misnamed, "local", {})["other"].error
    assert "not a request" in refuse(refused, "extra", "not a request: junk")["extra"].error


def test_a_daemon_name_another_deployment_uses_is_refused() -> None:
    desired = initial_state(list(BASE.values()))
    clash = request(copy_spec("extra", daemon="normaliser"), "extra", 1)
    desired = apply_request(desired, "extra", clash, "local", BASE)
    assert not desired["extra"].running
    assert "daemon name 'normaliser' is used by deployment 'md'" in desired["extra"].error
    assert set(desired_daemons(desired)) == {"normaliser"}


def test_plan_leaves_unchanged_daemons_alone_and_rescales_or_replaces_the_changed() -> None:
    current = {d.name: d for d in copy_spec("a", "copy", replicas=2).daemons + copy_spec("b", "other").daemons}
    # more replicas of a consumer-group daemon: only the difference starts
    (change,) = plan_changes(current, {**current, "copy": copy_spec("a", "copy", replicas=4).daemons[0]})
    assert change.kind is ChangeKind.RESCALE and change.spec is not None and change.spec.replicas == 4
    # new settings: its replicas are replaced
    (change,) = plan_changes(current, {**current, "copy": copy_spec("a", "copy", replicas=2, output="c").daemons[0]})
    assert change.kind is ChangeKind.REPLACE
    # a sharded daemon's new shard count changes every shard's share: replaced
    shards = ingestion_spec("i", 2).daemons[0]
    (change,) = plan_changes({"ingest": shards}, {"ingest": ingestion_spec("i", 3).daemons[0]})
    assert change.kind is ChangeKind.REPLACE
    # one gone, one new, the rest untouched
    new = copy_spec("c", "third").daemons[0]
    changes = plan_changes(current, {"copy": current["copy"], "third": new})
    assert sorted((c.kind.value, c.daemon) for c in changes) == [("start", "third"), ("stop", "other")]
    assert plan_changes(current, current) == []


def test_a_request_carrying_a_secret_is_refused_before_it_reaches_kafka() -> None:
    spec = parse_spec(
        {
            "name": "exec",
            "daemons": [
                {
                    "name": "exec-binance",
                    "kind": "passthrough",
                    "env": {"TRADEPLAT_MAIN_API_SECRET": "s3cr3t"},
                    "config": {"inputs": ["a"], "output": "b"},
                }
            ],
        }
    )
    with pytest.raises(ConfigError, match="TRADEPLAT_MAIN_API_SECRET: a secret never goes into ctl.deployment") as refused:
        refuse_secrets(spec)
    assert "s3cr3t" not in str(refused.value)
    refuse_secrets(copy_spec("fine"))  # nothing secret: no complaint
