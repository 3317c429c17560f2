"""SourceDaemon: a daemon that produces without consuming (generators, exchange feeds).

The subclass implements :meth:`next_outputs`, called in a loop; the runtime
produces what it returns, serves delivery reports, sends heartbeats and stops on
SIGTERM/SIGINT after flushing. A delivery that fails after the producer's retries
is fatal: the daemon exits non-zero and its supervisor restarts it.
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Sequence

from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.runtime.output import Output

log = logging.getLogger(__name__)


class SourceSettings(BaseSettings, kw_only=True):
    """Settings of a producing-only daemon."""

    idle_sleep_ms: float = 1.0


class SourceDaemon(DaemonLifecycle, abc.ABC):
    """Base of producing-only daemons."""

    failed_deliveries_only = True  # it commits nothing: only a refused frame matters

    settings: SourceSettings

    @abc.abstractmethod
    def next_outputs(self, now_ns: int) -> Sequence[Output]:
        """Outputs due at ``now_ns`` (empty when nothing is due; the loop then sleeps briefly)."""

    def run(self) -> None:
        self.install_signal_handlers()
        self.serve_metrics()
        self._state = "running"
        log.info("source started", extra={"daemon": self.settings.name, "instance": self.instance})
        idle_s = self.settings.idle_sleep_ms / 1000
        try:
            while not self.stopping:
                outputs = self.next_outputs(time.time_ns())
                for output in outputs:
                    self.produce(output)
                self.messages_out += len(outputs)
                self.metrics.messages_out.inc(len(outputs))
                self.producers.poll()
                self.raise_on_delivery_failure()
                if self.heartbeat_due(time.monotonic()):
                    self.send_heartbeat([])
                if not outputs:
                    time.sleep(idle_s)
        finally:
            self._state = "stopped"
            self.send_heartbeat([])
            remaining = self.producers.flush(self.settings.shutdown_timeout_s)
            log.info("source stopped", extra={"messages_out": self.messages_out, "undelivered": remaining})
