"""``tradeplat status`` output: the health report as tables for people, or as JSON for machines."""

from __future__ import annotations

import json

import msgspec

from platform_streams.supervisor.health import DaemonHealth, PlatformHealth, ServerHealth, StreamDeploymentHealth


def as_json(health: PlatformHealth) -> str:
    return json.dumps(msgspec.to_builtins(health), indent=2)


def render(health: PlatformHealth) -> str:
    """Per deployment, a table of servers and one of daemons; then what is wrong, if anything."""
    lines: list[str] = []
    for deployment in health.deployments:
        supervisor = "running" if deployment.supervisor_running else "NOT RUNNING"
        lines.append(
            f"deployment {deployment.deployment}: supervisor pid {deployment.supervisor_pid} {supervisor}, "
            f"updated {deployment.status_age_s:.1f}s ago"
        )
        if deployment.servers:
            lines += _table(
                ("server", "state", "pid", "restarts", "down", "address"), [_server_row(s) for s in deployment.servers]
            )
        if deployment.stream_deployments:
            lines += _table(
                ("deployment", "state", "processes", "lag", "restarts", "source", "requested"),
                [_stream_deployment_row(s) for s in deployment.stream_deployments],
            )
            lines += [
                f"  ! deployment {s.name}: request refused: {s.refused}" for s in deployment.stream_deployments if s.refused
            ]
        header = (
            "daemon",
            "state",
            "pid",
            "restarts",
            "exit",
            "lag",
            "in",
            "out",
            "errors",
            "heartbeat",
            "metrics",
            "last error",
        )
        lines += _table(header, [_daemon_row(d) for d in deployment.daemons])
    if health.healthy:
        lines.append("healthy")
    else:
        lines.append(f"UNHEALTHY ({len(health.problems)} problem{'s' if len(health.problems) != 1 else ''}):")
        lines += [f"  - {problem}" for problem in health.problems]
    return "\n".join(lines)


def _server_row(s: ServerHealth) -> tuple[str, ...]:
    return (
        s.name if s.embedded else f"{s.name} (external)",
        s.state,
        str(s.pid or "-"),
        str(s.restarts),
        "-" if s.down_for_s is None else f"{s.down_for_s:.1f}s",
        s.address,
    )


def _stream_deployment_row(s: StreamDeploymentHealth) -> tuple[str, ...]:
    lag = "-" if s.lag is None else f"{s.lag}{' growing' if s.lag_growing else ''}"
    requested = f"by {s.operator or '-'}" if s.source != "spec file" else "-"
    state = f"moved to {s.host}" if s.state == "moved" else s.state
    return (s.name, state, f"{s.replicas_running}/{s.replicas}", lag, str(s.restarts), s.source, requested)


def _daemon_row(d: DaemonHealth) -> tuple[str, ...]:
    heartbeat = "-" if d.heartbeat_age_s is None else f"{d.heartbeat_age_s:.1f}s ago (every {d.heartbeat_interval_s:g}s)"
    lag = "-" if d.lag is None else f"{d.lag}{' growing' if d.lag_growing else ''}"
    return (
        f"{d.name}[{d.replica}]",
        d.state,
        str(d.pid or "-"),
        str(d.restarts),
        "-" if d.last_exit_code is None else str(d.last_exit_code),
        lag,
        str(d.messages_in),
        str(d.messages_out),
        str(d.errors),
        heartbeat,
        f":{d.metrics_port}" if d.metrics_port else "-",
        _shortened(d.last_error, 60) or "-",
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    everything = [header, *rows]
    widths = [max(len(row[i]) for row in everything) for i in range(len(header))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in everything]


def _shortened(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
