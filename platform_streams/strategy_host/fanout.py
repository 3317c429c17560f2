"""Fan-out of one market-data read to many deployments: a dict lookup per event (by instrument, or
by account and instrument for fills), never a loop over every deployment; a deployment whose
strategy raises is stopped and the others go on."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from platform_streams.schemas import BestBidOffer, Candle, Fill, IndicatorValue, Instrument, StrategySnapshot, Trade
from platform_streams.strategy_host.hosted_deployment import DeploymentRefused, DeploymentState, HostedDeployment
from strategies.intents import Intent

log = logging.getLogger(__name__)

RoutedEvent = Trade | BestBidOffer | Candle | IndicatorValue | Fill
Decisions = list[tuple[HostedDeployment, Sequence[Intent]]]

_NONE: tuple[HostedDeployment, ...] = ()
_GONE = frozenset((DeploymentState.FAILED, DeploymentState.STOPPED))


class DeploymentFanout:
    """The deployments of one host and the routes to them."""

    def __init__(self) -> None:
        self.deployments: dict[str, HostedDeployment] = {}
        self._by_instrument: dict[str, tuple[HostedDeployment, ...]] = {}
        self._by_account_instrument: dict[tuple[str, str], HostedDeployment] = {}
        self._guarded = False  # some running deployment skips input its restored state covers
        self.wanted_keys: frozenset[bytes] = frozenset()
        """Record keys some running deployment reads (its instruments' ``exchange:symbol``, its account
        for fills): a host skips any other record before decoding it."""

    def add(self, deployment: HostedDeployment) -> None:
        """Host ``deployment`` (waiting until :meth:`activate_ready` finds its instruments known).
        Refused if its id is taken, or if another deployment trades one of its instruments on the
        same account: fills name an account, so positions would be ambiguous."""
        if deployment.id in self.deployments:
            raise DeploymentRefused(deployment.id, "another deployment of this host has the same id")
        self._check_overlap(deployment)
        self.deployments[deployment.id] = deployment

    def replace(self, deployment: HostedDeployment) -> HostedDeployment:
        """Put ``deployment`` (a new version) in the place of the one of its id; returns the old one, stopped."""
        old = self.deployments[deployment.id]
        self._check_overlap(deployment)
        old.state = DeploymentState.STOPPED
        self.deployments[deployment.id] = deployment
        self._route()
        return old

    def retire(self, deployment: HostedDeployment) -> None:
        """Stop ``deployment`` for good (fenced): it gets no more events and takes no more snapshots."""
        deployment.state = DeploymentState.STOPPED
        self._route()

    def cover(self, offsets: Mapping[tuple[str, int], int], but: HostedDeployment) -> None:
        """Every running deployment except ``but`` has seen the input up to ``offsets``: when the host
        reads those records again (for ``but``'s catch-up), they skip them."""
        for deployment in self.running():
            if deployment is not but:
                for partition, offset in offsets.items():
                    if offset > deployment.covered.get(partition, 0):
                        deployment.covered[partition] = offset
        self._route()

    def _check_overlap(self, deployment: HostedDeployment) -> None:
        for other in self.deployments.values():
            if other.id == deployment.id or other.state in _GONE:
                continue
            if other.spec.account == deployment.spec.account:
                shared = set(other.instrument_keys) & set(deployment.instrument_keys)
                if shared:
                    raise DeploymentRefused(
                        deployment.id,
                        f"deployment {other.id!r} already trades {sorted(shared)[0]} on account {deployment.spec.account!r}",
                    )

    def activate_ready(self, reference: Mapping[str, Instrument]) -> list[HostedDeployment]:
        """Start the waiting deployments whose instruments all have reference data; returns them."""
        ready = [
            d
            for d in self.deployments.values()
            if d.state is DeploymentState.WAITING and all(key in reference for key in d.instrument_keys)
        ]
        for deployment in ready:
            deployment.state = DeploymentState.RUNNING
        if ready:
            self._route()
        return ready

    def running(self) -> list[HostedDeployment]:
        return [d for d in self.deployments.values() if d.state is DeploymentState.RUNNING]

    def dispatch(self, event: RoutedEvent, topic: str, partition: int, offset: int) -> tuple[Decisions, list[HostedDeployment]]:
        """Hand ``event`` (read at ``topic``/``partition``/``offset``) to the deployments it concerns;
        returns their intents and the deployments that failed on it (stopped, error kept)."""
        if type(event) is Fill:
            one = self._by_account_instrument.get((event.account, f"{event.exchange}:{event.symbol}"))
            targets: tuple[HostedDeployment, ...] = (one,) if one is not None else _NONE
        else:
            targets = self._by_instrument.get(event.key, _NONE)
        if not targets:
            return [], []
        decisions: Decisions = []
        failed: list[HostedDeployment] = []
        for deployment in targets:
            if self._guarded and deployment.covered and deployment.covers(topic, partition, offset):
                continue
            try:
                intents = deployment.driver.on_event(event)
            except Exception as error:  # the strategy's fault: isolate it, the others go on
                deployment.fail(error)
                failed.append(deployment)
                log.error(
                    "strategy deployment failed and is stopped",
                    extra={"deployment": deployment.id, "strategy": deployment.spec.strategy, "error": deployment.error},
                )
                continue
            if intents:
                decisions.append((deployment, intents))
        if failed:
            self._route()
        return decisions, failed

    def restore(self, snapshot: StrategySnapshot) -> HostedDeployment | None:
        """Restore the deployment ``snapshot`` is of (None if this host has no such live deployment,
        or the id now names another strategy, which starts fresh); from then on it skips the input
        the snapshot covers. Raises :class:`DeploymentRefused` if the strategy cannot read the
        snapshot's state version."""
        deployment = self.deployments.get(snapshot.deployment)
        if deployment is None or deployment.state in _GONE:
            return None
        if snapshot.strategy != deployment.driver.strategy.name:
            log.warning(
                "snapshot of another strategy under this deployment id: starting fresh",
                extra={"deployment": deployment.id, "snapshot_strategy": snapshot.strategy},
            )
            return None
        deployment.restore(snapshot)
        self._route()
        return deployment

    def stop(self, deployment: HostedDeployment, error: BaseException) -> None:
        """Stop ``deployment`` for ``error`` (an intent it returned could not be published)."""
        deployment.fail(error)
        log.error("strategy deployment failed and is stopped", extra={"deployment": deployment.id, "error": deployment.error})
        self._route()

    def _route(self) -> None:
        by_instrument: dict[str, list[HostedDeployment]] = {}
        by_account_instrument: dict[tuple[str, str], HostedDeployment] = {}
        for deployment in self.running():
            for key in deployment.instrument_keys:
                by_instrument.setdefault(key, []).append(deployment)
                by_account_instrument[(deployment.spec.account, key)] = deployment
        self._by_instrument = {key: tuple(ds) for key, ds in by_instrument.items()}
        self._by_account_instrument = by_account_instrument
        accounts = {account for account, _ in by_account_instrument}
        self.wanted_keys = frozenset(key.encode() for key in (*by_instrument, *accounts))
        self._guarded = any(d.covered for d in self.running())
