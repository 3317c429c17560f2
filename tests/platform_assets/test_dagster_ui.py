"""The Dagster UI as `make up` serves it, in a real browser (Debian's chromium driven by Playwright):
launch a stream deployment from the Launchpad, see the run succeed and the deployment's health on
the stream_deployments asset, stop it the same way; then the pages operators use for backfills
(the exchange candles' partitions) and promotion (its Launchpad). Screenshots go to
test-artifacts/dagster-ui/, and also to ``$TRADEPLAT_DOC_SCREENSHOTS`` when set (``make
doc-screenshots`` refreshes docs/images/ this way)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect, sync_playwright

from platform_streams.embedded.paths import REPOSITORY_ROOT
from platform_streams.embedded.processes import free_port
from platform_streams.topics import DEMO_INPUT_TOPIC, DEMO_OUTPUT_TOPIC
from tests.waiting import wait_until

CHROMIUM = os.environ.get("TRADEPLAT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPOSITORY_ROOT / "test-artifacts" / "dagster-ui"
RUN_TIMEOUT_MS = 300_000  # a run is a subprocess that loads the code, then waits for the supervisor
PROMOTION = {
    "ops": {
        "register": {
            "config": {
                "strategy": "ema-crossover", "version": "1.0.0", "instruments": ["binance:BTC/USDT"],
                "parameters": {"fast_period": 12, "slow_period": 26, "position_size": "0.01"}, "deployment": "btc-trend",
                "backtest": {"start": "2026-11-01", "end": "2026-12-01", "candle_source": "exchange"},
                "gate": {"min_sharpe": 1.0, "max_drawdown": 0.05}, "paper_seconds": 3600,
            }
        }
    }
}  # fmt: skip


class Platform:
    """`tradeplat up` in a state folder of its own, with one small deployment; stopped at the end."""

    def __init__(self, state: Path, spec: Path) -> None:
        state.mkdir(parents=True, exist_ok=True)
        self.output = state / "up.out"
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")},
            "TRADEPLAT_STATE_DIR": str(state),
            "TRADEPLAT_DAGSTER_PORT": str(free_port()),
            "TRADEPLAT_HOST": "local",
        }
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "platform_streams.cli.main", "up", "--deployment", str(spec)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.url = ""

    def wait_ready(self) -> str:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"tradeplat up exited: {self.output.read_text()}")
            return "ready in" in self.output.read_text()

        wait_until(ready, 240, "tradeplat up to be ready", describe=self.output.read_text, interval_s=0.5)
        match = re.search(r"dagster ui\s+(http://\S+)", self.output.read_text())
        assert match, self.output.read_text()
        self.url = match.group(1)
        return self.url

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    spec = tmp_path / "feed.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "feed",
                "daemons": [
                    {
                        "name": "feed-trades",
                        "kind": "synthetic-trades",
                        "restart": "always",
                        "config": {"output": DEMO_INPUT_TOPIC, "rate": 100, "instruments": 10},
                    }
                ],
            }
        )
    )
    platform = Platform(tmp_path / "state", spec)
    try:
        platform.wait_ready()
        yield platform
    finally:
        platform.stop()


def launch_from_launchpad(page: Page, base: str, job: str, config: dict, shot: str) -> None:
    page.goto(f"{base}/locations/tradeplat/jobs/{job}/playground")
    page.wait_for_selector(".CodeMirror", timeout=120_000)
    page.evaluate("text => document.querySelector('.CodeMirror').CodeMirror.setValue(text)", yaml.safe_dump(config))
    expect(page.get_by_text("No errors")).to_be_visible(timeout=60_000)
    page.screenshot(path=ARTIFACTS / f"{shot}-launchpad.png")
    page.get_by_role("button", name="Launch Run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"), timeout=120_000)
    expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=ARTIFACTS / f"{shot}-run.png")


def shows(page: Page, url: str, text: re.Pattern[str], timeout_s: float = 150) -> None:
    """Open ``url`` until it shows ``text``: the asset's latest observation may be the sensor's, read
    a moment before the job's change, until its next tick (every 30 s)."""

    def visible() -> bool:
        page.goto(url)
        try:
            expect(page.get_by_text(text).first).to_be_visible(timeout=15_000)
        except AssertionError:
            return False
        return True

    wait_until(visible, timeout_s, f"{url} to show {text.pattern}", interval_s=1.0)


@pytest.mark.e2e
def test_a_stream_deployment_is_launched_watched_and_stopped_from_the_dagster_ui(platform: Platform) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = f"ui-copier-{uuid.uuid4().hex[:4]}"
    copy = {
        "name": "ui-copy",
        "kind": "passthrough",
        "restart": "always",
        "config": {"inputs": [DEMO_INPUT_TOPIC], "output": DEMO_OUTPUT_TOPIC},
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_locator_handler(
                page.get_by_role("button", name="Skip"), lambda button: button.click()
            )  # the community modal
            launch = {"ops": {"launch_stream_deployment": {"config": {"name": name, "daemons": [copy]}}}}
            launch_from_launchpad(page, platform.url, "launch_deployment", launch, "1-launch")

            shows(page, f"{platform.url}/assets/stream_deployments", re.compile(r"^running, 1/1 processes, lag \d"))
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
            page.screenshot(path=ARTIFACTS / "2-deployment-health.png", full_page=True)
            status = subprocess.run(
                [sys.executable, "-m", "platform_streams.cli.main", "status"],
                capture_output=True,
                text=True,
                env={**os.environ, "TRADEPLAT_STATE_DIR": str(platform.output.parent)},
            ).stdout
            assert re.search(rf"{name}\s+running\s+1/1", status), status

            stop = {"ops": {"stop_stream_deployment": {"config": {"deployment": name}}}}
            launch_from_launchpad(page, platform.url, "stop_deployment", stop, "3-stop")
            shows(page, f"{platform.url}/assets/stream_deployments", re.compile(r"^stopped, 0/0 processes"))
            page.screenshot(path=ARTIFACTS / "4-stopped.png", full_page=True)

            # where backfills start: the candles' day × exchange partitions, and "Materialize…"
            page.goto(f"{platform.url}/assets/exchange_candles?view=partitions")
            expect(page.get_by_role("button", name=re.compile("Materialize")).first).to_be_visible(timeout=120_000)
            expect(page.get_by_text(re.compile(r"binance|okx|kraken")).first).to_be_visible(timeout=60_000)
            page.screenshot(path=ARTIFACTS / "5-candle-partitions.png")
            # where promotion starts: the promote_strategy job's Launchpad with a valid config (not launched)
            page.goto(f"{platform.url}/locations/tradeplat/jobs/promote_strategy/playground")
            page.wait_for_selector(".CodeMirror", timeout=120_000)
            page.evaluate("text => document.querySelector('.CodeMirror').CodeMirror.setValue(text)", yaml.safe_dump(PROMOTION))
            expect(page.get_by_text("No errors")).to_be_visible(timeout=60_000)
            page.screenshot(path=ARTIFACTS / "6-promotion-launchpad.png")
        finally:
            browser.close()
    documentation = os.environ.get("TRADEPLAT_DOC_SCREENSHOTS")
    if documentation:
        for shot in ARTIFACTS.glob("*.png"):
            shutil.copy(shot, Path(documentation) / f"dagster-{shot.name}")
