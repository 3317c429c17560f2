"""``tradeplat topics`` and ``tradeplat migrate``: idempotent set-up of external servers."""

from __future__ import annotations

import argparse
import os

from platform_streams.cli.environment import required_env
from platform_streams.database.migrate import migrate
from platform_streams.topics import DEFAULT_PARTITIONS, ensure_topics


def register(sub: argparse._SubParsersAction) -> None:
    topics = sub.add_parser("topics", help="create the registry's topics on KAFKA_BOOTSTRAP_SERVERS")
    topics.add_argument("--partitions", type=int, default=int(os.environ.get("TRADEPLAT_PARTITIONS", DEFAULT_PARTITIONS)))
    topics.set_defaults(run=run_topics)
    migrate_parser = sub.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    migrate_parser.set_defaults(run=run_migrate)


def run_topics(args: argparse.Namespace) -> int:
    created = ensure_topics(required_env("KAFKA_BOOTSTRAP_SERVERS"), default_partitions=args.partitions)
    print(f"created {len(created)} topics: {', '.join(created) or '-'}")
    return 0


def run_migrate(_args: argparse.Namespace) -> int:
    applied = migrate(required_env("DATABASE_URL"))
    print(f"applied migrations: {applied or 'none (up to date)'}")
    return 0
