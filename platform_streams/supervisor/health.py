"""Honest health: what ``tradeplat status`` concludes from a supervisor's status file.

Pure: fed with the status files (what the supervisor knows of its processes, their latest
heartbeats and the servers' probes), the time, and whether each supervisor still lives.
A daemon's heartbeat must arrive at least every ``missed_heartbeats`` intervals; when the
broker is gone none arrives, so its age grows and the daemon is *silent*, never "running".

The result, :class:`PlatformHealth`, is the stable JSON schema of ``tradeplat status --json``
(``schema`` names its version; fields are only ever added), documented in docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from platform_streams.supervisor.status import DeploymentStatus, ReplicaStatus, ServerStatus, StreamDeploymentStatus

STATUS_SCHEMA = "tradeplat.status/1"

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
EXIT_NOT_RUNNING = 3

HEALTHY_DAEMON_STATES = frozenset({"running", "completed"})


class HealthPolicy(msgspec.Struct, frozen=True):
    """The thresholds of the judgement."""

    missed_heartbeats: int = 3  # silent after this many intervals without a heartbeat
    start_grace_s: float = 60.0  # how long a new process may take to send its first heartbeat
    unresponsive_after_s: float = 5.0  # a server whose probe has failed this long does not answer
    lag_window_s: float = 30.0  # lag "growing": it never fell over this long...
    lag_min_growth: int = 100  # ...and rose by at least this much...
    lag_min_share: float = 0.1  # ...and by at least this share of what the daemon consumed meanwhile
    status_stale_s: float = 10.0  # a supervisor writes its status every 250 ms; older means it is stuck


DEFAULT_POLICY = HealthPolicy()


class DaemonHealth(msgspec.Struct):
    name: str
    replica: int
    instance: str
    kind: str
    state: str  # starting | running | blocked | silent | restarting | failed | completed | pending | stopping | stopped | unknown
    healthy: bool
    problem: str  # "" when healthy
    pid: int | None
    restarts: int
    last_exit_code: int | None
    heartbeat_age_s: float | None
    heartbeat_interval_s: float
    missed_heartbeats: int  # whole intervals since the current process's last heartbeat
    lag: int | None
    lag_growing: bool
    messages_in: int
    messages_out: int
    errors: int
    last_error: str
    last_error_age_s: float | None
    restart_in_s: float | None
    metrics_port: int | None
    log_file: str
    deployment: str = ""  # the stream deployment it belongs to


class StreamDeploymentHealth(msgspec.Struct):
    """One deployment of stream daemons: what is asked of it and how its daemons are."""

    name: str
    state: str  # running | degraded | starting | stopping | stopped | moved
    healthy: bool
    problem: str
    source: str  # "spec file" | "ctl.deployment"
    revision: int
    operator: str
    requested_at: float | None
    refused: str  # why its latest request was refused ("" if it was not)
    refused_revision: int  # that request's revision
    replicas: int  # processes it should run
    replicas_running: int  # of them, running and healthy
    lag: int | None  # its consumers' summed lag (None: none reported)
    lag_growing: bool
    restarts: int
    messages_in: int
    messages_out: int
    host: str  # where a request moved it ("": here)
    daemons: list[str]


class ServerHealth(msgspec.Struct):
    name: str
    description: str
    address: str
    embedded: bool
    critical: bool
    state: str  # starting | running | unresponsive | restarting | failed | stopped | unreachable | unknown
    healthy: bool
    problem: str
    pid: int | None
    restarts: int
    last_exit_code: int | None
    last_error: str
    down_for_s: float | None
    restart_in_s: float | None


class DeploymentHealth(msgspec.Struct):
    deployment: str
    supervisor_pid: int
    supervisor_running: bool
    status_age_s: float
    healthy: bool
    servers: list[ServerHealth]
    daemons: list[DaemonHealth]
    host: str = ""  # the host whose ctl.deployment requests its supervisor runs
    stream_deployments: list[StreamDeploymentHealth] = []


class PlatformHealth(msgspec.Struct):
    schema: str
    checked_at: float
    healthy: bool
    running: bool  # whether any deployment's supervisor is running
    problems: list[str]
    deployments: list[DeploymentHealth]

    @property
    def exit_code(self) -> int:
        if not self.running:
            return EXIT_NOT_RUNNING
        return EXIT_HEALTHY if self.healthy else EXIT_UNHEALTHY


def evaluate(
    statuses: Sequence[DeploymentStatus],
    now: float,
    supervisor_alive: Callable[[int], bool],
    policy: HealthPolicy = DEFAULT_POLICY,
) -> PlatformHealth:
    """Judge every deployment's servers and daemons at ``now``."""
    deployments = [_deployment_health(status, now, supervisor_alive(status.supervisor_pid), policy) for status in statuses]
    problems = []
    for deployment in deployments:
        if not deployment.supervisor_running:
            problems.append(f"{deployment.deployment}: its supervisor (pid {deployment.supervisor_pid}) is not running")
        elif deployment.status_age_s > policy.status_stale_s:
            problems.append(
                f"{deployment.deployment}: its supervisor has not written its status for {deployment.status_age_s:.0f}s"
            )
        problems += [f"{deployment.deployment}: {s.name}: {s.problem}" for s in deployment.servers if s.problem]
        problems += [f"{deployment.deployment}: {d.name}[{d.replica}]: {d.problem}" for d in deployment.daemons if d.problem]
    running = any(d.supervisor_running for d in deployments)
    if not deployments:
        problems.append("no deployment is running (start one with `tradeplat up`)")
    healthy = running and all(d.healthy for d in deployments)
    return PlatformHealth(STATUS_SCHEMA, now, healthy, running, problems, deployments)


def _deployment_health(status: DeploymentStatus, now: float, alive: bool, policy: HealthPolicy) -> DeploymentHealth:
    age = max(now - status.updated_at, 0.0)
    servers = [server_health(s, now, alive, policy) for s in status.servers]
    daemons = [daemon_health(r, now, alive, policy) for r in status.replicas]
    healthy = alive and age <= policy.status_stale_s and all(s.healthy for s in servers) and all(d.healthy for d in daemons)
    stream_deployments = [stream_deployment_health(s, daemons) for s in status.stream_deployments]
    return DeploymentHealth(
        status.deployment, status.supervisor_pid, alive, round(age, 3), healthy, servers, daemons, status.host, stream_deployments
    )


def stream_deployment_health(s: StreamDeploymentStatus, daemons: Sequence[DaemonHealth]) -> StreamDeploymentHealth:
    """A deployment is healthy when every process it should run runs healthy (a stopped one, when none
    of its processes is left); a refused request is reported, but the deployment runs on as it was."""
    mine = [d for d in daemons if d.deployment == s.name]
    wanted = sum(int(d.get("replicas", 1)) for d in (s.spec or {}).get("daemons", [])) if s.running else 0
    active = [d for d in mine if d.state != "stopping"]
    good = [d for d in active if d.healthy]
    problems = [f"{d.name}[{d.replica}]: {d.problem}" for d in active if d.problem]
    if not s.running:
        state = "stopping" if mine else ("moved" if s.host else "stopped")
        problem = f"{len(mine)} process(es) still stopping" if mine else ""
    elif any(d.state == "stopping" for d in mine) or len(active) < wanted or any(d.state == "starting" for d in active):
        state, problem = "starting", "; ".join(problems) or f"{len(good)} of {wanted} processes running"
    elif problems:
        state, problem = "degraded", "; ".join(problems)
    else:
        state, problem = "running", ""
    lags = [d.lag for d in active if d.lag is not None]
    return StreamDeploymentHealth(
        name=s.name,
        state=state,
        healthy=not problem,
        problem=problem,
        source=s.source,
        revision=s.revision,
        operator=s.operator,
        requested_at=s.requested_at,
        refused=s.error,
        refused_revision=s.refused_revision,
        replicas=wanted,
        replicas_running=len(good),
        lag=sum(lags) if lags else None,
        lag_growing=any(d.lag_growing for d in active),
        restarts=sum(d.restarts for d in mine),
        messages_in=sum(d.messages_in for d in mine),
        messages_out=sum(d.messages_out for d in mine),
        host=s.host,
        daemons=s.daemons,
    )


def daemon_health(r: ReplicaStatus, now: float, supervised: bool, policy: HealthPolicy = DEFAULT_POLICY) -> DaemonHealth:
    """One daemon process: its supervisor's view, judged against its heartbeats."""
    interval = r.heartbeat_interval_s if r.heartbeat_interval_s > 0 else 5.0
    current_beat = r.pid != 0 and r.heartbeat_pid == r.pid and r.heartbeat_at is not None
    age = max(now - r.heartbeat_at, 0.0) if r.heartbeat_at is not None else None
    missed = int(age // interval) if current_beat and age is not None else 0
    growing = current_beat and lag_growing(r.lag_samples, policy.lag_window_s, policy.lag_min_growth, policy.lag_min_share)
    restart_in = max(r.next_start - now, 0.0) if r.state == "backoff" and r.next_start is not None else None
    state, problem = _daemon_state(r, now, supervised, current_beat, age, interval, growing, restart_in, policy)
    return DaemonHealth(
        name=r.name,
        replica=r.replica,
        instance=r.instance,
        kind=r.kind,
        state=state,
        healthy=not problem,
        problem=problem,
        pid=r.pid or None,
        restarts=r.restarts,
        last_exit_code=r.last_exit_code,
        heartbeat_age_s=_rounded(age),
        heartbeat_interval_s=interval,
        missed_heartbeats=missed,
        lag=r.lag if current_beat else None,
        lag_growing=growing,
        messages_in=r.messages_in,
        messages_out=r.messages_out,
        errors=r.errors,
        last_error=r.last_error,
        last_error_age_s=_rounded(now - r.last_error_at if r.last_error_at is not None else None),
        restart_in_s=_rounded(restart_in),
        metrics_port=r.metrics_port if r.metrics_port > 0 else None,
        log_file=r.log_file,
        deployment=r.deployment,
    )


def _daemon_state(
    r: ReplicaStatus,
    now: float,
    supervised: bool,
    current_beat: bool,
    age: float | None,
    interval: float,
    growing: bool,
    restart_in: float | None,
    policy: HealthPolicy,
) -> tuple[str, str]:
    """(state, problem); the problem is empty exactly when the daemon is healthy."""
    if not supervised:
        return "unknown", "its supervisor is not running"
    if r.state == "backoff":
        when = f"; restarting in {restart_in:.1f}s" if restart_in is not None else ""
        return "restarting", f"{r.last_error or f'exit status {r.last_exit_code}'}{when}"
    if r.state == "failed":
        return "failed", f"gave up restarting it: {r.failed_reason or r.last_error}"
    if r.state == "completed":
        return "completed", ""
    if r.state == "pending":
        return "starting", "starting: waits for the process it replaces to exit"
    if r.state == "stopping":
        return "stopping", ""  # asked to stop (its deployment stopped or changed): on its way out
    if r.state != "running":
        return r.state, r.state
    silent_after = policy.missed_heartbeats * interval
    if not current_beat or age is None:
        running_for = now - r.started_at
        if running_for <= max(policy.start_grace_s, silent_after):
            return "starting", f"starting: no heartbeat yet after {running_for:.0f}s"
        return "silent", f"silent: no heartbeat since it started {running_for:.0f}s ago"
    if age > silent_after:
        return "silent", f"silent: last heartbeat {age:.1f}s ago (expected every {interval:g}s)"
    if r.heartbeat_state == "blocked":
        return "blocked", f"blocked: {r.last_error or 'waiting on a server'}"
    if growing:
        return "running", f"falling behind: lag {r.lag_samples[-1][1]} has only grown for {policy.lag_window_s:g}s"
    return "running", ""


def lag_growing(samples: Sequence[tuple[float, int, int]], window_s: float, min_growth: int, min_share: float = 0.1) -> bool:
    """Whether a consumer is falling behind: over the last ``window_s`` (at least half of it covered, three
    samples of (time, lag, messages consumed so far)) its lag never fell, and it rose by at least
    ``min_growth`` and by at least ``min_share`` of what it consumed meanwhile. Lag read from watermarks a
    moment old wobbles by about a second's input, so a busy consumer keeping up is never "growing"."""
    if not samples:
        return False
    newest = samples[-1][0]
    recent = [sample for sample in samples if sample[0] >= newest - window_s]
    if len(recent) < 3 or recent[-1][0] - recent[0][0] < window_s / 2:
        return False
    never_fell = all(b[1] >= a[1] for a, b in zip(recent, recent[1:], strict=False))
    growth, consumed = recent[-1][1] - recent[0][1], recent[-1][2] - recent[0][2]
    return never_fell and growth >= min_growth and growth >= min_share * consumed


def server_health(s: ServerStatus, now: float, supervised: bool, policy: HealthPolicy = DEFAULT_POLICY) -> ServerHealth:
    """One server: its process as supervised (embedded) and its probe (embedded or external)."""
    down_for = max(now - s.down_since, 0.0) if s.down_since is not None else None
    restart_in = max(s.next_start - now, 0.0) if s.state == "restarting" and s.next_start is not None else None
    state, problem = _server_state(s, now, supervised, down_for, restart_in, policy)
    return ServerHealth(
        name=s.name,
        description=s.description,
        address=s.address,
        embedded=s.embedded,
        critical=s.critical,
        state=state,
        healthy=not problem,
        problem=problem,
        pid=s.pid or None,
        restarts=s.restarts,
        last_exit_code=s.last_exit_code,
        last_error=s.last_error or s.probe_error,
        down_for_s=_rounded(down_for),
        restart_in_s=_rounded(restart_in),
    )


def _server_state(
    s: ServerStatus, now: float, supervised: bool, down_for: float | None, restart_in: float | None, policy: HealthPolicy
) -> tuple[str, str]:
    if not supervised:
        return "unknown", "its supervisor is not running"
    failing_for = now - s.probe_failing_since if s.probe_failing_since is not None else 0.0
    not_answering = s.probe_ok is False and failing_for >= policy.unresponsive_after_s
    down = f" for {down_for:.1f}s" if down_for is not None else ""
    if not s.embedded:
        if s.probe_ok is None:
            return "unknown", "not checked yet"
        if not_answering:
            return "unreachable", f"unreachable for {failing_for:.0f}s: {s.probe_error}"
        return "running", ""
    if s.state == "running":
        if not_answering:
            return "unresponsive", f"running but not answering for {failing_for:.0f}s: {s.probe_error}"
        return "running", ""
    if s.state == "restarting":
        when = f"; restarting in {restart_in:.1f}s" if restart_in is not None else ""
        return "restarting", f"down{down} ({s.last_error}){when}"
    if s.state == "starting":
        return "starting", f"down{down}, starting again (restart {s.restarts}): {s.last_error}"
    if s.state == "failed":
        return "failed", f"gave up after {s.restarts} restarts: {s.last_error}"
    return s.state, s.state


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
