"""Deployment specs: which daemons to run, how many replicas, with what settings (YAML)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import msgspec
import yaml

from platform_streams.daemons import UnknownDaemonKind, daemon_kind
from platform_streams.settings import ConfigError, convert_settings


class RestartPolicy(enum.Enum):
    ALWAYS = "always"  # restart whatever the exit status
    ON_FAILURE = "on-failure"  # a clean exit (status 0) means the daemon finished its work


class DaemonSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One daemon of a deployment: ``replicas`` processes of ``kind`` sharing a consumer group."""

    name: str
    kind: str
    replicas: int = 1
    restart: RestartPolicy = RestartPolicy.ON_FAILURE
    config: dict[str, Any] = {}
    env: dict[str, str] = {}


class DeploymentSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    daemons: list[DaemonSpec]


def parse_spec(data: Any, source: str = "deployment spec") -> DeploymentSpec:
    """Validate a deployment spec, including each daemon's settings against its kind."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with `name` and `daemons`")
    try:
        spec = msgspec.convert(data, DeploymentSpec)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    seen: set[str] = set()
    for daemon in spec.daemons:
        if daemon.name in seen:
            raise ConfigError(f"{source}: daemon name {daemon.name!r} is used twice")
        seen.add(daemon.name)
        if daemon.replicas < 0:
            raise ConfigError(f"{source}: daemon {daemon.name!r} has replicas={daemon.replicas}; must be >= 0")
        try:
            kind = daemon_kind(daemon.kind)
        except UnknownDaemonKind as exc:
            raise ConfigError(f"{source}: daemon {daemon.name!r}: {exc}") from None
        if daemon.replicas > 1 and shards_by_replica(daemon.kind) and {"replica", "replicas"} & daemon.config.keys():
            raise ConfigError(
                f"{source}: daemon {daemon.name!r} runs {daemon.replicas} replicas, so the supervisor sets "
                "`replica` and `replicas`; remove them from its config"
            )
        # validate now, so a typo fails at deploy time and not in a crash-looping child
        convert_settings(kind.settings, {"name": daemon.name, "bootstrap_servers": "validation:0", **daemon.config})
    return spec


def shards_by_replica(kind: str) -> bool:
    """Whether processes of ``kind`` split the work by ``replica`` of ``replicas`` (ingestion's
    shards) rather than by sharing a consumer group; the supervisor then tells each its index."""
    fields = {field.name for field in msgspec.structs.fields(daemon_kind(kind).settings)}
    return {"replica", "replicas"} <= fields


def combine_specs(specs: list[DeploymentSpec]) -> DeploymentSpec:
    """Several deployments run as one (one supervisor, one status view), named ``a+b``; a daemon
    name used in two of them is refused, as within one."""
    if len(specs) == 1:
        return specs[0]
    owner: dict[str, str] = {}
    for spec in specs:
        for daemon in spec.daemons:
            if daemon.name in owner:
                raise ConfigError(f"daemon name {daemon.name!r} is used by deployments {owner[daemon.name]!r} and {spec.name!r}")
            owner[daemon.name] = spec.name
    return DeploymentSpec("+".join(spec.name for spec in specs), [d for spec in specs for d in spec.daemons])


def load_spec(path: Path) -> DeploymentSpec:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"deployment spec {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"deployment spec {path} is not valid YAML: {exc}") from None
    return parse_spec(data, str(path))
