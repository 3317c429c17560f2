"""`tradeplat strategy deploy|stop|list` on the real broker: each deploy writes the deployment's next
epoch to ctl.strategy with its host and spec, a stop the one after, and list shows the latest."""

from __future__ import annotations

import json
import time
from pathlib import Path

from platform_streams.cli.main import main
from platform_streams.strategy_host.deployment_control import spec_of
from platform_streams.strategy_host.strategy_control import latest_records


def test_deploy_hot_deploy_stop_and_list(kafka_bootstrap, monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    deployment = f"cli-quoter-{time.time_ns()}"
    spec = tmp_path / "quoter.yaml"
    spec.write_text(
        f"id: {deployment}\nstrategy: tests.strategy_host.versioned_strategies:SteadyQuoter\nversion: 1.0.0\n"
        "instruments: [binance:BTC/USDT]\naccount: a1\nmode: live\nparameters: {every: 2}\n"
    )
    assert main(["strategy", "deploy", str(spec), "--host", "host-a"]) == 0
    assert f"deployed: {deployment} epoch 1 on host-a\n" in capsys.readouterr().out
    spec.write_text(spec.read_text().replace("SteadyQuoter\n", "SteadyQuoterV2\n").replace("1.0.0", "1.1.0"))
    assert main(["strategy", "deploy", str(spec), "--host", "host-b"]) == 0
    assert f"deployed: {deployment} epoch 2 on host-b (replaces epoch 1 on host-a)" in capsys.readouterr().out

    latest = latest_records(kafka_bootstrap)[deployment]
    assert (latest.epoch, latest.host, latest.running) == (2, "host-b", True)
    assert spec_of(latest).version == "1.1.0" and spec_of(latest).parameters == {"every": 2}

    assert main(["strategy", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"deployment": deployment, "epoch": 2, "host": "host-b", "state": "running",
            "strategy": "tests.strategy_host.versioned_strategies:SteadyQuoterV2", "version": "1.1.0"} in rows  # fmt: skip

    assert main(["strategy", "stop", deployment]) == 0
    assert f"stopped: {deployment} epoch 3" in capsys.readouterr().out
    assert main(["strategy", "list"]) == 0
    assert f"deployment={deployment}  epoch=3  host=host-b  state=stopped" in capsys.readouterr().out


def test_stop_of_an_unknown_deployment_and_a_bad_spec_are_refused(kafka_bootstrap, monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    assert main(["strategy", "stop", "no-such-deployment"]) == 2
    assert "no deployment 'no-such-deployment'" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nstrategy: ema-crossover\n")
    assert main(["strategy", "deploy", str(bad), "--host", "h"]) == 2
    assert "configuration error" in capsys.readouterr().err
