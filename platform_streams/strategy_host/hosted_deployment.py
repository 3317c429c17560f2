"""One deployment inside a host: its spec, its driven strategy and its life (waiting for reference
data → running → failed or stopped, or refused at the door), its fencing epoch, the input offsets a
restored snapshot already covers and, while it catches up after a hand-over, how far it must read
before its intents go out."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from platform_streams.schemas import Instrument, StrategySnapshot
from platform_streams.strategy_host.strategy_deployment import StrategyDeploymentSpec
from strategies.catalog import UnknownStrategy, strategy_class
from strategies.context import StrategyContext
from strategies.driver import StrategyDriver
from strategies.parameters import ParameterError
from strategies.strategy import StateVersionError

Partition = tuple[str, int]


class DeploymentRefused(ValueError):
    """A deployment the host will not run: unknown strategy, bad parameter, wrong version or instruments."""

    def __init__(self, deployment: str, reason: str) -> None:
        super().__init__(f"deployment {deployment!r} refused: {reason}")
        self.deployment = deployment
        self.reason = reason


class DeploymentState(enum.Enum):
    WAITING = "waiting"  # built; some instrument's reference data is not known yet
    RUNNING = "running"
    FAILED = "failed"  # the strategy raised: stopped, the error kept
    STOPPED = "stopped"  # fenced: a newer epoch runs elsewhere, or the deployment was stopped


class HostedDeployment:
    __slots__ = ("spec", "driver", "state", "error", "intents", "covered", "instrument_keys", "epoch", "catching_up")

    def __init__(self, spec: StrategyDeploymentSpec, driver: StrategyDriver, epoch: int = 0) -> None:
        self.spec = spec
        self.driver = driver
        self.state = DeploymentState.WAITING
        self.error = ""
        self.intents = 0
        self.covered: dict[Partition, int] = {}  # input offsets a restored snapshot already includes
        self.instrument_keys = tuple(spec.instruments)
        self.epoch = epoch  # the fencing epoch its intents carry (0: no ctl.strategy record governs it)
        self.catching_up: dict[Partition, int] = {}  # replaying up to these offsets: its intents are withheld

    @property
    def id(self) -> str:
        return self.spec.id

    def fail(self, error: BaseException) -> None:
        self.state = DeploymentState.FAILED
        self.error = f"{type(error).__name__}: {error}"[:500]

    def restore(self, snapshot: StrategySnapshot) -> None:
        """Take over a snapshot's state and positions; skip input it already covers."""
        try:
            self.driver.strategy.restore(snapshot.state)
        except StateVersionError as error:
            raise DeploymentRefused(self.id, str(error)) from None
        self.driver.context.set_positions(snapshot.instrument_positions)
        self.covered = {(o.topic, o.partition): o.offset for o in snapshot.input_offsets}

    def covers(self, topic: str, partition: int, offset: int) -> bool:
        """Whether the restored state already includes this input record."""
        return offset < self.covered.get((topic, partition), 0)

    def caught_up(self, next_offsets: Mapping[Partition, int]) -> bool:
        """Forget the partitions read up to their catch-up offsets; whether none is left."""
        if self.catching_up:
            self.catching_up = {p: o for p, o in self.catching_up.items() if next_offsets.get(p, 0) < o}
        return not self.catching_up


def build_deployment(spec: StrategyDeploymentSpec, reference: Mapping[str, Instrument], epoch: int = 0) -> HostedDeployment:
    """Check ``spec`` and build its strategy; :class:`DeploymentRefused` says what is wrong.
    ``reference`` is the host's live instrument map, shared (the context reads it as it fills)."""
    try:
        cls = strategy_class(spec.strategy)
    except UnknownStrategy as error:
        raise DeploymentRefused(spec.id, str(error)) from None
    if spec.version and spec.version != cls.version:
        raise DeploymentRefused(spec.id, f"the spec wants {cls.name} version {spec.version}, the host has {cls.version}")
    for key in spec.instruments:
        if key.count(":") != 1:
            raise DeploymentRefused(spec.id, f"instrument {key!r} is not exchange:symbol")
    try:
        cls.check_instruments(spec.instruments)
        values = cls.validate(spec.parameters)
    except (ParameterError, ValueError) as error:
        raise DeploymentRefused(spec.id, str(error)) from None
    if spec.timer_interval_s < 0:
        raise DeploymentRefused(spec.id, f"timer_interval_s = {spec.timer_interval_s} is negative")
    context = StrategyContext(spec.id, values, tuple(spec.instruments), reference)
    try:
        strategy = cls(context)
    except Exception as error:  # a strategy that cannot even be built is refused, never the host's end
        raise DeploymentRefused(spec.id, f"{cls.name} could not be built: {type(error).__name__}: {error}") from None
    return HostedDeployment(spec, StrategyDriver(strategy, int(spec.timer_interval_s * 1e9)), epoch)
