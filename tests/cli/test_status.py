"""`tradeplat status` against a real `tradeplat up`: a daemon that stops sending heartbeats is silent, a
broker or database killed with SIGKILL is restarting (held 10 s here), each shown in the JSON report and
in a non-zero exit status; `up` brings both back and the report returns to healthy by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from platform_streams.supervisor.health import EXIT_HEALTHY, EXIT_NOT_RUNNING, EXIT_UNHEALTHY
from tests.cli.up_process import processes_mentioning, start_up, status
from tests.waiting import wait_until

HOLD_S = 10  # `up --restart-delay`: a killed server stays down this long
RESTARTS = 2  # `up --server-restarts`: the servers' restart budget in the test that spends it


def daemon(report: dict, name: str) -> dict:
    return next(d for d in report["deployments"][0]["daemons"] if d["name"] == name)


def server(report: dict, name: str) -> dict:
    return next(s for s in report["deployments"][0]["servers"] if s["name"] == name)


def healthy(env: dict[str, str]) -> bool:
    code, report = status(env)
    return (
        code == EXIT_HEALTHY and report["healthy"] and all(d["state"] == "running" for d in report["deployments"][0]["daemons"])
    )


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_status_reports_a_silent_daemon_a_stopped_broker_and_a_stopped_database(tmp_path: Path, platform_env) -> None:
    code, report = status(platform_env)
    assert code == EXIT_NOT_RUNNING and not report["running"] and report["deployments"] == []
    up, output = start_up(tmp_path, platform_env, "--no-ui", "--restart-delay", str(HOLD_S))
    try:
        wait_until(lambda: healthy(platform_env), 120, "a healthy platform")
        _, report = status(platform_env)
        assert [s["name"] for s in report["deployments"][0]["servers"]] == ["kafka", "postgres"]
        assert all(s["embedded"] and s["state"] == "running" and s["pid"] for s in report["deployments"][0]["servers"])

        # a daemon that hangs (stopped, so no heartbeat) is silent after three missed intervals
        copy_pid = daemon(report, "copy")["pid"]
        os.kill(copy_pid, signal.SIGSTOP)
        try:
            wait_until(lambda: daemon(status(platform_env)[1], "copy")["state"] == "silent", 60, "the copy to be silent")
            code, report = status(platform_env)
            copy = daemon(report, "copy")
            assert code == EXIT_UNHEALTHY and not report["healthy"]
            assert copy["missed_heartbeats"] >= 3 and copy["heartbeat_interval_s"] == 0.5
            assert any("copy[0]: silent: last heartbeat" in p for p in report["problems"])
            assert daemon(report, "trades")["state"] == "running"
        finally:
            os.kill(copy_pid, signal.SIGCONT)
        wait_until(lambda: healthy(platform_env), 60, "the copy to be heard again")

        # the broker killed: restarting, and with no broker no heartbeat arrives: every daemon is silent
        _, report = status(platform_env)
        os.kill(server(report, "kafka")["pid"], signal.SIGKILL)
        wait_until(
            lambda: all(d["state"] == "silent" for d in status(platform_env)[1]["deployments"][0]["daemons"]),
            60,
            "every daemon to be silent",
        )
        code, report = status(platform_env)
        kafka = server(report, "kafka")
        assert code == EXIT_UNHEALTHY
        assert (kafka["state"], kafka["healthy"], kafka["last_exit_code"], kafka["last_error"]) == (
            "restarting",
            False,
            -signal.SIGKILL,
            "killed by SIGKILL",
        )
        assert kafka["down_for_s"] > 0 and kafka["restart_in_s"] is not None

        # and the database too, while the broker is still down
        os.kill(server(report, "postgres")["pid"], signal.SIGKILL)
        wait_until(lambda: server(status(platform_env)[1], "postgres")["state"] == "restarting", 30, "the database seen down")
        text = subprocess.run(
            [sys.executable, "-m", "platform_streams.cli.main", "status"], env=platform_env, capture_output=True, text=True
        )
        assert text.returncode == EXIT_UNHEALTHY
        assert "UNHEALTHY" in text.stdout and "kafka: down for" in text.stdout and "postgres: down for" in text.stdout

        # `up` restarts both after the hold, on the same addresses: the daemons are heard again
        wait_until(lambda: healthy(platform_env), HOLD_S + 180, "the platform to be healthy again")
        _, report = status(platform_env)
        assert [(s["state"], s["restarts"]) for s in report["deployments"][0]["servers"]] == [("running", 1), ("running", 1)]
        assert all(d["restarts"] == 0 for d in report["deployments"][0]["daemons"])
        text = output.read_text()
        assert "kafka went down (killed by SIGKILL)" in text and "kafka is back" in text and "postgres is back" in text
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0
    finally:
        if up.poll() is None:
            up.kill()
    assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == []


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_up_stops_everything_and_says_why_when_the_database_keeps_crashing(tmp_path: Path, platform_env) -> None:
    up, output = start_up(tmp_path, platform_env, "--no-ui", "--server-restarts", str(RESTARTS))
    killed: list[int] = []
    try:
        # kill the database each time it is back, as a new postmaster (a report read just after a kill
        # may still show the killed one), until `up` gives up: the kill after the budget's last restart
        # (a restart that itself fails, while the killed server's backends linger, counts too)
        while up.poll() is None and len(killed) <= RESTARTS:

            def back() -> dict | bool:
                if up.poll() is not None:
                    return True
                database = server(status(platform_env)[1], "postgres")
                return database["state"] == "running" and database["pid"] not in killed and database

            running = wait_until(back, 180, f"the database back after {len(killed)} kills")
            if up.poll() is not None:
                break
            killed.append(running["pid"])
            try:
                os.kill(running["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass  # the restarted server exited by itself after the report (it counts against the budget too)
        assert 1 <= len(killed) <= RESTARTS + 1
        assert up.wait(timeout=120) == 1
    finally:
        if up.poll() is None:
            up.kill()
    text = output.read_text()
    assert "postgres went down again (killed by SIGKILL); its restart budget is spent" in text
    assert (
        f"tradeplat up: the embedded PostgreSQL (postgres) went down more than its budget of {RESTARTS} restarts within 600s"
        in text
    )
    assert "stopped: daemons, broker and database are down." in text
    assert processes_mentioning(platform_env["TRADEPLAT_STATE_DIR"]) == []
