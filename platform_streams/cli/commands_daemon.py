"""``tradeplat daemon`` and ``tradeplat supervise``: run one daemon, or one deployment."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from platform_streams.cli.environment import required_env
from platform_streams.daemons import DAEMON_KINDS, daemon_kind
from platform_streams.embedded.paths import state_dir
from platform_streams.settings import ConfigError, load_settings
from platform_streams.structured_logging import configure_logging
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.services import ServiceSupervisor
from platform_streams.supervisor.spec import load_spec
from platform_streams.supervisor.stack_services import kafka_service, postgres_service


def register(sub: argparse._SubParsersAction) -> None:
    daemon = sub.add_parser("daemon", help="run one daemon in the foreground")
    daemon.add_argument("kind", choices=sorted(DAEMON_KINDS))
    daemon.add_argument("--config", type=Path, help="YAML file of settings")
    daemon.add_argument("--values-json", help="settings as a JSON object (used by the supervisor)")
    daemon.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override one setting")
    daemon.set_defaults(run=run_daemon)

    supervise = sub.add_parser("supervise", help="run a deployment spec against KAFKA_BOOTSTRAP_SERVERS")
    supervise.add_argument("spec", type=Path)
    supervise.add_argument(
        "--host",
        default=os.environ.get("TRADEPLAT_HOST", "local"),
        help="the host name whose ctl.deployment requests this supervisor runs (default $TRADEPLAT_HOST or 'local')",
    )
    supervise.set_defaults(run=run_supervise)


def run_daemon(args: argparse.Namespace) -> int:
    early_stop = threading.Event()  # a SIGTERM while the daemon is being built still drains cleanly
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: early_stop.set())
    kind = daemon_kind(args.kind)
    values = json.loads(args.values_json) if args.values_json else None
    if values is not None and not isinstance(values, dict):
        raise ConfigError("--values-json must be a JSON object")
    settings = load_settings(kind.settings, yaml_path=args.config, values=values, overrides=args.set)
    configure_logging(daemon=settings.name, instance=settings.instance or None)
    daemon = kind.daemon(settings)
    if early_stop.is_set():
        daemon.stop()
    daemon.run()
    return 0


def run_supervise(args: argparse.Namespace) -> int:
    configure_logging(component="supervisor")
    spec = load_spec(args.spec)
    bootstrap = required_env("KAFKA_BOOTSTRAP_SERVERS", "use `tradeplat up` for the embedded stack")
    # the servers are someone else's to run: probed, so status can tell a silent daemon's cause
    services = ServiceSupervisor([kafka_service(bootstrap)])
    if os.environ.get("DATABASE_URL"):
        services.add(postgres_service(os.environ["DATABASE_URL"]))
    supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}, state_dir(), services=services, host=args.host)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    supervisor.start()
    try:
        supervisor.run_until(stop.is_set)
    finally:
        supervisor.stop()
        services.close()
    return 0
