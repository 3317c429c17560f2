"""What every daemon has, whether it consumes or only produces: settings, metrics endpoint,
producers (with a delivery callback that notices a failed delivery), heartbeats, structured
logs and signal-driven shutdown; and the serving loop of a daemon whose work runs on an
asyncio event loop (WebSocket ingestion, the simulator, the snapshot budget)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ClassVar

import msgspec
from confluent_kafka import KafkaException, Message

from platform_streams.kafka_clients import KafkaOverrides
from platform_streams.runtime import event_loop
from platform_streams.runtime.delivery import DeliveryFailed
from platform_streams.runtime.metrics import RuntimeMetrics
from platform_streams.runtime.output import Output
from platform_streams.runtime.producers import OutputProducers
from platform_streams.schemas import DeadLetter, Heartbeat, PartitionLag, encode
from platform_streams.settings import ConfigError
from platform_streams.topics import DEADLETTER_TOPIC, HEARTBEAT_TOPIC

log = logging.getLogger(__name__)

EXIT_SHUTDOWN_ABANDONED = 75  # sysexits' EX_TEMPFAIL: stopped without its last commit (the broker was unreachable)


class BaseSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings every daemon shares; a stage's settings struct extends this one."""

    name: str
    instance: str = ""
    bootstrap_servers: str = ""
    heartbeat_interval_s: float = 5.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    metrics_port_fallback: bool = False  # the port was picked for us (the supervisor): if taken since, any free one
    deadletter_topic: str = DEADLETTER_TOPIC
    heartbeat_topic: str = HEARTBEAT_TOPIC
    shutdown_timeout_s: float = 30.0  # to deliver what is in flight and commit, once stopped
    shutdown_grace_s: float = 15.0  # beyond that, for the rest of a stop asked by a signal (then the process exits)
    kafka: KafkaOverrides = msgspec.field(default_factory=KafkaOverrides)

    def resolved_bootstrap_servers(self) -> str:
        servers = self.bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not servers:
            raise ConfigError(f"{self.name}: no Kafka bootstrap servers (set bootstrap_servers or KAFKA_BOOTSTRAP_SERVERS)")
        return servers

    def resolved_instance(self) -> str:
        return self.instance or f"{self.name}-{socket.gethostname()}-{os.getpid()}"


class DaemonLifecycle:
    """Shared plumbing of a daemon process; subclasses provide the main loop."""

    failed_deliveries_only: ClassVar[bool] = False
    """True for daemons that need only refused deliveries reported (producers that commit nothing:
    feeds and sources), so an acknowledged record costs no Python callback."""

    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings
        self.bootstrap_servers = settings.resolved_bootstrap_servers()
        self.instance = settings.resolved_instance()
        self.metrics = RuntimeMetrics(settings.name)
        self.metrics_port = -1
        self.producers = OutputProducers(
            self.bootstrap_servers, settings.kafka, self.instance, failed_deliveries_only=self.failed_deliveries_only
        )
        self._stop_requested = threading.Event()
        self._shutdown_bound: threading.Timer | None = None
        self._state = "starting"
        self._next_heartbeat = 0.0
        self._delivery_failure: object | None = None
        self.messages_in = 0
        self.messages_out = 0
        self.error_count = 0
        self.last_error = ""
        self.last_error_ns = 0

    # -- shutdown -------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish its batch, flush, commit and exit (safe from signals and threads)."""
        self._stop_requested.set()

    @property
    def stopping(self) -> bool:
        return self._stop_requested.is_set()

    def install_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_stop_signal)

    def _on_stop_signal(self, _signum: int, _frame: object) -> None:
        """A stop asked of the process (its supervisor, Ctrl-C, its parent's death): it ends within a
        bound. With the broker gone, the last commit would wait for it forever; the process exits
        without it after ``shutdown_timeout_s`` + ``shutdown_grace_s``, and the next owner of its
        partitions reads the uncommitted input again (at least once; downstream dedupes)."""
        self.stop()
        if self._shutdown_bound is None:
            limit = self.settings.shutdown_timeout_s + self.settings.shutdown_grace_s
            self._shutdown_bound = threading.Timer(limit, self._abandon_shutdown, args=(limit,))
            self._shutdown_bound.daemon = True
            self._shutdown_bound.start()

    def _abandon_shutdown(self, limit_s: float) -> None:
        log.error(
            f"shutdown did not finish within {limit_s:.0f}s; exiting without it",
            extra={"state": self._state, "uncommitted_input": "read again by the next owner of its partitions"},
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(EXIT_SHUTDOWN_ABANDONED)

    def run_event_loop(self, main: Callable[[], Coroutine[Any, Any, None]]) -> int:
        """The whole life of a daemon whose loop is a coroutine: signals and metrics, ``main()`` on a
        new event loop until it returns, then a last ``stopped`` heartbeat and the producers flushed.
        Returns how many records the producers could not deliver."""
        self.install_signal_handlers()
        self.serve_metrics()
        try:
            event_loop.run(main())
        finally:
            self._state = "stopped"
            self.send_heartbeat([])
            undelivered = self.producers.flush(self.settings.shutdown_timeout_s)
        return undelivered

    async def serve_until_stopped(
        self, report: Callable[[], None], tick_s: float = 0.1, check: Callable[[], None] | None = None
    ) -> None:
        """For a daemon whose work runs on its own (servers, connections, watch tasks on the event
        loop): mark it running, then until stop call ``report`` (its heartbeat) when one is due, serve
        producer deliveries, and raise when an output of :meth:`produce` failed (the daemon exits
        non-zero and its supervisor restarts it) or when ``check`` raises (the daemon's own fatal
        conditions)."""
        self._state = "running"
        while not self.stopping:
            if self.heartbeat_due(time.monotonic()):
                report()
            self.producers.poll()
            self.raise_on_delivery_failure()
            if check is not None:
                check()
            await asyncio.sleep(tick_s)

    # -- producing ----------------------------------------------------------------------
    def produce(self, output: Output) -> None:
        """Hand one output to its producer with the daemon's delivery callback: a delivery that fails
        after the producer's retries is noticed (:meth:`raise_on_delivery_failure`)."""
        self.producers.produce(output, self._on_delivery)

    def _on_delivery(self, error: object | None, _message: object) -> None:
        if error is not None and self._delivery_failure is None:
            self._delivery_failure = error

    def raise_on_delivery_failure(self) -> None:
        """Raise :class:`DeliveryFailed` if an output of :meth:`produce` was refused (after serving
        delivery callbacks with ``producers.poll``/``flush``)."""
        if self._delivery_failure is not None:
            self.metrics.error("delivery")
            raise DeliveryFailed(f"output delivery failed: {self._delivery_failure}")

    async def wait_acknowledged(self) -> None:
        """Wait until every output produced so far is acknowledged, however long the producer's
        retries take: a slow or restarting broker is waited for, a refusal (or ``message.timeout.ms``
        passing) raises :class:`DeliveryFailed`. Returns early when the daemon is stopped."""
        while await asyncio.to_thread(self.producers.flush, 1.0):
            self.raise_on_delivery_failure()
            if self.stopping:
                return
        self.raise_on_delivery_failure()

    # -- metrics and heartbeats ------------------------------------------------------
    def dead_letter(self, message: Message, error: Exception, note: str = "") -> Output:
        """The ``md.deadletter`` record of a message that ``error`` made unhandleable (``note`` adds
        to the reason). A stateful stage calls it from ``handle`` for input it rejects before
        touching its state, rather than raising (which would make the runtime replay the batch
        message by message); a daemon that publishes the input itself calls it with the record's
        delivery report."""
        self.error_count += 1
        self.metrics.dead_letters.inc()
        self.last_error, self.last_error_ns = f"dead letter: {type(error).__name__}: {error}"[:500], time.time_ns()
        log.warning(
            "message dead-lettered",
            extra={"topic": message.topic(), "partition": message.partition(), "offset": message.offset(), "reason": str(error)},
        )
        record = DeadLetter(
            source_topic=message.topic() or "",
            source_partition=message.partition() or 0,
            source_offset=message.offset() or 0,
            key=message.key(),
            payload=message.value() or b"",
            reason=f"{type(error).__name__}: {error}" + (f" ({note})" if note else ""),
            error_type=type(error).__name__,
            daemon=self.settings.name,
            exchange=getattr(error, "exchange", ""),
            ts_ns=time.time_ns(),
        )
        return Output(self.settings.deadletter_topic, encode(record), message.key())

    def record_error(self, kind: str, error: object) -> None:
        """Count an error of ``kind`` and keep it as the last error, which heartbeats carry to ``tradeplat status``."""
        self.metrics.error(kind)
        self.error_count += 1
        self.last_error = f"{kind}: {error}"[:500]
        self.last_error_ns = time.time_ns()

    def serve_metrics(self) -> None:
        if self.settings.metrics_port >= 0:
            host, port = self.settings.metrics_host, self.settings.metrics_port
            try:
                self.metrics_port = self.metrics.serve(host, port)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or not self.settings.metrics_port_fallback:
                    raise
                self.metrics_port = self.metrics.serve(host, 0)  # heartbeats tell the supervisor where it is
                log.warning("metrics port taken: serving on another", extra={"asked": port, "port": self.metrics_port})
            log.info("metrics endpoint", extra={"url": f"http://{self.settings.metrics_host}:{self.metrics_port}/metrics"})

    def heartbeat_due(self, now: float) -> bool:
        if now < self._next_heartbeat:
            return False
        self._next_heartbeat = now + self.settings.heartbeat_interval_s
        return True

    def send_heartbeat(self, lags: Sequence[PartitionLag], group: str = "") -> None:
        beat = Heartbeat(
            daemon=self.settings.name,
            instance=self.instance,
            host=socket.gethostname(),
            pid=os.getpid(),
            ts_ns=time.time_ns(),
            state=self._state,
            group=group,
            lags=list(lags),
            messages_in=self.messages_in,
            messages_out=self.messages_out,
            errors=self.error_count,
            metrics_port=self.metrics_port,
            interval_s=self.settings.heartbeat_interval_s,
            last_error=self.last_error,
            last_error_ts_ns=self.last_error_ns,
        )
        try:
            self.producers.produce(Output.event(self.settings.heartbeat_topic, beat))
        except KafkaException as exc:  # a missed heartbeat must never stop the work it reports on
            self.record_error("heartbeat", exc)
            log.warning("heartbeat not sent", extra={"topic": self.settings.heartbeat_topic, "error": str(exc)})
