"""``tradeplat up``, ``down`` and ``status``: the whole platform on one machine."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from platform_streams.database.migrate import migrate
from platform_streams.embedded.dagster_ui import DagsterUI, ensure_database
from platform_streams.embedded.paths import REPOSITORY_ROOT, state_dir
from platform_streams.embedded.postgres import EmbeddedPostgres
from platform_streams.embedded.processes import cmdline, free_port, pid_alive, terminate_pid
from platform_streams.embedded.stack import Connections, PlatformStack
from platform_streams.settings import ConfigError
from platform_streams.structured_logging import JsonFormatter
from platform_streams.supervisor.deployment_launcher import read_health
from platform_streams.supervisor.health import STATUS_SCHEMA
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.services import DEFAULT_SERVER_RESTARTS, SERVER_RESTART_WINDOW_S, ServiceSupervisor
from platform_streams.supervisor.spec import DeploymentSpec, combine_specs, load_spec
from platform_streams.supervisor.stack_services import dagster_services, server_services
from platform_streams.supervisor.status import remove_stale
from platform_streams.supervisor.status_render import as_json, render
from platform_streams.topics import DEFAULT_PARTITIONS, TOPICS, ensure_topics

MARKET_DATA_DEPLOYMENT = REPOSITORY_ROOT / "deployments" / "market-data.yaml"
TRADING_DEPLOYMENT = REPOSITORY_ROOT / "deployments" / "trading.yaml"
DEFAULT_DEPLOYMENTS = [MARKET_DATA_DEPLOYMENT, TRADING_DEPLOYMENT]


def register(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("up", help="start broker, database and a deployment in the foreground (Ctrl-C stops all)")
    up.add_argument(
        "--deployment",
        type=Path,
        action="append",
        dest="deployments",
        metavar="SPEC",
        help="a deployment spec; repeat to run several as one (default: deployments/market-data.yaml and trading.yaml)",
    )
    up.add_argument("--partitions", type=int, default=int(os.environ.get("TRADEPLAT_PARTITIONS", DEFAULT_PARTITIONS)))
    up.add_argument("--ui-port", type=int, default=int(os.environ.get("TRADEPLAT_DAGSTER_PORT", 3000)))
    up.add_argument("--no-ui", action="store_true", help="do not start the Dagster UI and daemon")
    up.add_argument(
        "--restart-delay",
        type=float,
        default=float(os.environ.get("TRADEPLAT_SERVER_RESTART_DELAY_S", 0)),
        metavar="SECONDS",
        help="for outage drills: restart a crashed broker or database no sooner than this (default: backoff from 1s)",
    )
    up.add_argument(
        "--server-restarts",
        type=_non_negative_int,
        default=os.environ.get("TRADEPLAT_SERVER_RESTARTS", str(DEFAULT_SERVER_RESTARTS)),  # argparse applies the type
        metavar="N",
        help=f"restart a crashed broker or database at most N times within {SERVER_RESTART_WINDOW_S / 60:.0f} minutes, "
        f"then stop everything (default {DEFAULT_SERVER_RESTARTS})",
    )
    up.set_defaults(run=run_up)
    down = sub.add_parser("down", help="stop what `tradeplat up` started")
    down.set_defaults(run=run_down)
    status = sub.add_parser(
        "status",
        help="health of the servers and of each daemon; exit status 0 healthy, 1 unhealthy, 3 nothing running",
    )
    status.add_argument("--json", action="store_true", help=f"the health report as JSON (schema {STATUS_SCHEMA})")
    status.set_defaults(run=run_status)


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of restarts, 0 or more, not {text!r}")
    return value


def _log_to_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter({"component": "up"}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _say(text: str) -> None:
    print(text, flush=True)


def run_up(args: argparse.Namespace) -> int:
    state = state_dir()
    pid_file = _claim(state)
    specs = [load_spec(path) for path in args.deployments or DEFAULT_DEPLOYMENTS]
    combine_specs(specs)  # refuses a daemon name two of them use, before anything starts
    _log_to_file(state / "logs" / "up.log")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    pid_file.write_text(str(os.getpid()))
    stack = PlatformStack(state)
    services: ServiceSupervisor | None = None
    supervisor: Supervisor | None = None
    ui: DagsterUI | None = None
    failure: str | None = None
    _say(f"tradeplat up: state in {state}")
    try:
        started = time.monotonic()
        connections, services = _start_servers(stack, args)
        if not args.no_ui:
            ui = _start_dagster(state, connections, args.ui_port, embedded_database=stack.postgres is not None)
        supervisor = _start_deployment(specs, connections, state, services)
        if ui is not None:
            ui.wait_ready(while_waiting=supervisor.tick)
            for service in dagster_services(ui):
                services.add(service)
            _say(f"  dagster ui  {ui.url}  (runs stored in PostgreSQL, instance in {ui.home})")
        _say(
            f"ready in {time.monotonic() - started:.1f}s. `tradeplat status` shows the daemons; Ctrl-C or `tradeplat down` stops everything."
        )
        supervisor.run_until(lambda: stop.is_set() or services.failure() is not None)
        failure = services.failure()
        _say(f"tradeplat up: {failure}; stopping everything." if failure else "stopping...")
    finally:
        if supervisor is not None:
            supervisor.stop()
        if services is not None:
            services.close()
        if ui is not None:
            ui.stop()
        stack.stop()
        pid_file.unlink(missing_ok=True)
    _say("stopped: daemons, broker and database are down.")
    return 1 if failure else 0


def _claim(state: Path) -> Path:
    """The state folder's pid file, refusing if another `up` runs on it."""
    state.mkdir(parents=True, exist_ok=True)
    pid_file = state / "up.pid"
    if pid_file.exists():
        previous = int(pid_file.read_text().strip() or 0)
        if previous and pid_alive(previous) and any(word in cmdline(previous) for word in ("tradeplat", "platform_streams")):
            raise ConfigError(f"the platform is already running (pid {previous}); stop it with `tradeplat down`")
    return pid_file


def _start_servers(stack: PlatformStack, args: argparse.Namespace) -> tuple[Connections, ServiceSupervisor]:
    """Broker and database (embedded ones started, then supervised), the topics and the migrations."""
    connections = stack.start()
    kafka_note = f"embedded Apache Kafka, pid {stack.kafka.pid}" if stack.kafka else "external"
    pg_note = f"embedded PostgreSQL, pid {stack.postgres.pid}" if stack.postgres else "external"
    _say(f"  kafka       {connections.kafka_bootstrap_servers}  ({kafka_note})")
    _say(f"  postgres    {connections.database_url}  ({pg_note})")
    services = ServiceSupervisor(
        server_services(stack, connections, args.server_restarts),
        restart_delay_s=args.restart_delay,
        announce=lambda text: _say(f"  ! {text}"),
    )
    created = ensure_topics(connections.kafka_bootstrap_servers, default_partitions=args.partitions)
    _say(f"  topics      {len(TOPICS)} registered, {len(created)} created now ({args.partitions} partitions by default)")
    applied = migrate(connections.database_url)
    _say(f"  migrations  {'applied ' + str(applied) if applied else 'up to date'}")
    return connections, services


def _start_deployment(
    specs: list[DeploymentSpec], connections: Connections, state: Path, services: ServiceSupervisor
) -> Supervisor:
    """The spec files' deployments, as changed by the requests ``ctl.deployment`` holds for this host."""
    remove_stale(state / "supervisor")
    host = os.environ.get("TRADEPLAT_HOST", "local")
    supervisor = Supervisor(specs, connections.as_env(), state, services=services, host=host)
    supervisor.start()
    for desired in supervisor.desired.values():
        if desired.source != "spec file" or desired.error:
            state_now = "running" if desired.running else "stopped"
            refused = f"; its latest request was refused: {desired.error}" if desired.error else ""
            _say(f"  deployment  {desired.name}: {state_now} as requested by {desired.operator or '-'} (ctl.deployment){refused}")
    _say(
        f"  deployment  {supervisor.spec.name} on host {host}: {len(supervisor.replicas)} processes, logs in {supervisor.log_dir}"
    )
    for replica in supervisor.replicas:
        pid = replica.process.pid if replica.process else "-"
        _say(f"    {replica.instance:<28} pid {pid:<8} metrics http://127.0.0.1:{replica.metrics_port}/metrics")
    return supervisor


def _start_dagster(state: Path, connections: Connections, port: int, embedded_database: bool) -> DagsterUI:
    """Dagster keeps its runs in a database of its own on the embedded server; on an external
    server in ``DAGSTER_DATABASE_URL`` if given, else next to the platform's tables."""
    if embedded_database:
        storage = asyncio.run(ensure_database(connections.database_url, "dagster"))
    else:
        storage = os.environ.get("DAGSTER_DATABASE_URL") or connections.database_url
    ui = DagsterUI(state / "dagster", storage, port if _port_free(port) else free_port(), connections.as_env())
    ui.start()
    return ui


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_down(_args: argparse.Namespace) -> int:
    state = state_dir()
    pid_file = state / "up.pid"
    stopped_up = False
    if pid_file.exists():
        pid = int(pid_file.read_text().strip() or 0)
        if pid and pid_alive(pid):
            print(f"stopping tradeplat up (pid {pid})...")
            if not terminate_pid(pid, 90.0):
                print("it did not stop within 90s and was killed", file=sys.stderr)
            stopped_up = True
        pid_file.unlink(missing_ok=True)
    # leftovers of an `up` that was killed: its broker and database
    broker_pid_file = state / "kafka" / "broker.pid"
    if broker_pid_file.exists():
        pid = int(broker_pid_file.read_text().strip() or 0)
        if pid and pid_alive(pid) and "kafka.Kafka" in cmdline(pid):
            print(f"stopping a leftover broker (pid {pid})")
            terminate_pid(pid, 30.0)
        broker_pid_file.unlink(missing_ok=True)
    postgres = EmbeddedPostgres(state / "postgres")
    if postgres.pid is not None:
        print(f"stopping a leftover database (pid {postgres.pid})")
        postgres.stop()
    print("stopped" if stopped_up else "nothing was running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    health = read_health(state_dir() / "supervisor")
    print(as_json(health) if args.json else render(health))
    return health.exit_code
