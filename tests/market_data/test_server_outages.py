"""The market-data path through a ``kill -9`` of the broker, then of the database, each held down
``OUTAGE_S`` (20 s by default, 60 s with ``TRADEPLAT_TEST_OUTAGE_S=60``) by the supervision
``tradeplat up`` runs (its ServiceSupervisor restarts them on the same address with the same data). Afterwards every trade the simulator sent is stored exactly once, the
books equal the simulator's, nothing was dead-lettered, and the health that ``tradeplat status``
reports went bad (server restarting, daemons silent or blocked) and came back to healthy."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from platform_streams.embedded.stack import Connections, PlatformStack
from platform_streams.supervisor.services import ServiceSupervisor
from platform_streams.supervisor.stack_services import server_services
from platform_streams.topics import ensure_topics
from tests.market_data.pipeline_harness import MarketDataPipeline

# the supervisor restarts a crashed server no sooner than this: every daemon rides out the outage. 20 s in
# the default run (the issue asks ≥ 20 s; ride_out asserts it); TRADEPLAT_TEST_OUTAGE_S=60 shows a minute is
# ridden out too.
OUTAGE_S = float(os.environ.get("TRADEPLAT_TEST_OUTAGE_S", "20"))
INSTRUMENTS = 100  # per exchange, on Binance, OKX and Kraken


@pytest.fixture
def supervised_servers(tmp_path: Path) -> Iterator[tuple[PlatformStack, Connections, ServiceSupervisor]]:
    """A broker and a database of this test's own (it kills them), embedded and supervised as by `tradeplat up`."""
    stack = PlatformStack(tmp_path / "servers", env={})
    connections = stack.start()
    services = ServiceSupervisor(server_services(stack, connections), restart_delay_s=OUTAGE_S)
    try:
        ensure_topics(connections.kafka_bootstrap_servers, default_partitions=4)
        yield stack, connections, services
    finally:
        services.close()
        stack.stop()


def topics_on(bootstrap: str) -> Callable[[str, int], str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def create(prefix: str, partitions: int = 3) -> str:
        name = f"test.{prefix}.{uuid.uuid4().hex[:10]}"
        for future in admin.create_topics([NewTopic(name, partitions, replication_factor=-1)]).values():
            future.result(timeout=30)
        return name

    return create


class Outage:
    """What the health said while one server was down and coming back."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.server_states: set[str] = set()
        self.daemon_states: dict[str, set[str]] = defaultdict(set)
        self.unhealthy_seen = False

    def record(self, pipeline: MarketDataPipeline) -> bool:
        health = pipeline.health()
        (deployment,) = health.deployments
        self.server_states |= {s.state for s in deployment.servers if s.name == self.server}
        for daemon in deployment.daemons:
            self.daemon_states[daemon.instance].add(daemon.state)
        self.unhealthy_seen |= not health.healthy
        return health.healthy


def ride_out(
    pipeline: MarketDataPipeline, services: ServiceSupervisor, server: str, pid: int, capsys: pytest.CaptureFixture[str]
) -> Outage:
    """``kill -9`` the server, keep the market moving until the supervisor has it back and the whole
    deployment is healthy again; prints how long each took (past pytest's capture)."""
    outage = Outage(server)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    pipeline.wait_until(lambda: services.get(server).state != "running", 5, f"the supervisor to see {server} gone")
    pipeline.wait_until(
        lambda: (outage.record(pipeline), services.get(server).state == "running")[1], 180, f"{server} to be back"
    )
    back = time.monotonic()
    pipeline.wait_until(lambda: outage.record(pipeline), 240, f"a healthy deployment after the {server} outage")
    healthy = time.monotonic()
    with capsys.disabled():
        print(
            f"\n{server} outage: down {back - killed:.1f}s (restart held {OUTAGE_S:.0f}s), "
            f"deployment healthy {healthy - back:.1f}s after it was back ({healthy - killed:.1f}s after the kill)"
        )
    assert back - killed >= OUTAGE_S
    assert outage.unhealthy_seen and {"restarting", "starting"} <= outage.server_states
    return outage


@pytest.mark.e2e
@pytest.mark.timeout(1500)
def test_kill_9_of_the_broker_then_of_the_database_under_load(
    supervised_servers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, connections, services = supervised_servers
    assert stack.kafka is not None and stack.postgres is not None
    bootstrap = connections.kafka_bootstrap_servers
    with MarketDataPipeline(
        bootstrap, connections.database_url, tmp_path, topics_on(bootstrap), instruments=INSTRUMENTS, services=services
    ) as pipeline:
        pipeline.wait_books_live()
        pipeline.wait_until(lambda: pipeline.health().healthy, 120, "a healthy deployment before the faults")
        pipeline.run_market(2)

        broker_pid = stack.kafka.pid
        assert broker_pid is not None
        outage = ride_out(pipeline, services, "kafka", broker_pid, capsys)
        # no heartbeat crosses a missing broker: every daemon went silent, none was restarted for it
        assert all("silent" in states for states in outage.daemon_states.values()), dict(outage.daemon_states)
        assert stack.kafka.port == int(bootstrap.rsplit(":", 1)[1]) and stack.kafka.pid != broker_pid
        pipeline.run_market(3)

        database_pid = stack.postgres.pid
        assert database_pid is not None
        outage = ride_out(pipeline, services, "postgres", database_pid, capsys)
        # the sink kept its heartbeats going, saying it is blocked on the store, and never lost its place
        assert "blocked" in outage.daemon_states["sink-0"], dict(outage.daemon_states)
        assert stack.postgres.pid != database_pid
        pipeline.run_market(3)

        assert sum(r.restarts for r in pipeline.supervisor.replicas) == 0
        assert pipeline.assert_trades_exactly_once(timeout_s=300) > 0
        pipeline.assert_books_match()
        assert pipeline.dead_letters() == []
        health = pipeline.health()
        assert health.healthy, health.problems
