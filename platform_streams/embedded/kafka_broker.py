"""Apache Kafka as a single-node KRaft broker (combined broker + controller) on 127.0.0.1.

The jars come from Maven Central (``make setup``); this module writes a
``server.properties``, formats the storage once, and runs ``kafka.Kafka`` on the
machine's Java 17 with a modest heap. Data and logs live in the state folder, so
topics survive a restart; the ports chosen at first start are kept for the same reason.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from platform_streams.embedded.processes import (
    ServerStartError,
    cmdline,
    die_with_parent,
    free_port,
    last_line,
    pid_alive,
    rss_bytes,
    tail_lines,
    terminate_pid,
)
from platform_streams.kafka_clients import admin_settings

log = logging.getLogger(__name__)

_LOG4J2 = """status = error
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_dir}/server.log
appender.file.filePattern = {log_dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.state.name = state.change.logger
logger.state.level = ERROR
"""


class BrokerError(ServerStartError):
    """The embedded broker could not be set up or did not become healthy."""


DEFAULT_HEAP_MB = 512


def _heap_mb_from_environment() -> int:
    text = os.environ.get("TRADEPLAT_KAFKA_HEAP_MB", str(DEFAULT_HEAP_MB))
    if not text.isdigit() or int(text) < 64:
        raise BrokerError(f"TRADEPLAT_KAFKA_HEAP_MB={text!r}: expected a whole number of megabytes, at least 64")
    return int(text)


class EmbeddedKafka:
    """A supervised ``kafka.Kafka`` child process with its files under ``home``."""

    name = "kafka"
    description = "embedded Apache Kafka"

    def __init__(
        self,
        home: Path,
        libs_dir: Path,
        *,
        port: int = 0,
        controller_port: int = 0,
        heap_mb: int | None = None,
        java: str = "java",
        partitions: int = 24,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self.home = Path(home)
        self.libs_dir = Path(libs_dir)
        self._requested_ports = (port, controller_port)
        self._heap_mb = heap_mb if heap_mb is not None else _heap_mb_from_environment()
        self._java = java
        self._partitions = partitions
        self._extra_properties = dict(properties or {})
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.controller_port = 0

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.poll() is None else None

    @property
    def address(self) -> str:
        return self.bootstrap_servers

    def exit_code(self) -> int | None:
        """The broker's exit status once it has exited; None while it runs (or before a launch)."""
        return self._process.poll() if self._process is not None else None

    def last_log_line(self) -> str:
        """The last line the broker wrote (what a crash said, if it said anything): the JVM's own
        output or Kafka's log, whichever changed last."""
        logs = [path for path in (self.log_dir / "stdout.log", self.log_dir / "server.log") if path.exists()]
        return last_line(max(logs, key=lambda path: path.stat().st_mtime)) if logs else ""

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def gc_log(self) -> Path:
        """The JVM's log of garbage collections and every stop-the-world pause (rotated, 5 × 20 MB)."""
        return self.log_dir / "gc.log"

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid) if self.pid else 0

    # -- set-up ---------------------------------------------------------------------------
    def _check_libs(self) -> None:
        if not any(self.libs_dir.glob("kafka_2.13-*.jar")):
            raise BrokerError(f"Kafka jars not found in {self.libs_dir}: run `make setup` (resolves Kafka from Maven Central)")
        if shutil.which(self._java) is None:
            raise BrokerError(f"{self._java!r} not found: the embedded broker needs Java 17 or newer")

    def _choose_ports(self) -> None:
        ports_file = self.home / "ports.json"
        saved = json.loads(ports_file.read_text()) if ports_file.exists() else {}
        port, controller_port = self._requested_ports
        self.port = port or saved.get("port") or free_port()
        self.controller_port = controller_port or saved.get("controller_port") or free_port()
        ports_file.write_text(json.dumps({"port": self.port, "controller_port": self.controller_port}))

    def _write_config(self) -> Path:
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": str(self._partitions),
            "default.replication.factor": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # the controller keeps a broker's registration until its session lapses: after a kill -9 the
            # restarted broker cannot register (DUPLICATE_BROKER_REGISTRATION) until then. With Kafka's 9 s
            # every crash of this single node cost 9 s more downtime; heartbeats every 500 ms over loopback
            # to a controller in the same process keep a 4 s session from lapsing while it runs
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "4000",
            "auto.create.topics.enable": "false",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "log.segment.bytes": str(128 * 1024 * 1024),
            "log.retention.check.interval.ms": "60000",
            # the log cleaner's dedupe buffer is 128 MB of heap by default; compacted
            # control topics here are tiny
            "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
            **self._extra_properties,
        }
        config = self.home / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        (self.home / "log4j2.properties").write_text(_LOG4J2.format(log_dir=self.log_dir))
        return config

    def _server_heap_options(self) -> list[str]:
        """The server's whole heap from the start, touched before it serves.

        G1 sizes the young generation from the committed heap: started at 256 MB it stayed there
        and collected every 0.8 s at 5,000 events/s, each pause 5-12 ms (most of a hop's tail).
        With all of the heap committed it collects half as often: in interleaved runs the hop's
        p99 went from 3.6-5.2 ms to 2.0-4.8 ms (docs/architecture.md, "What one hop costs").
        Pre-touching keeps first-touch page faults out of the pauses."""
        return [f"-Xms{self._heap_mb}m", "-XX:+AlwaysPreTouch"]

    def _java_command(self, *args: str) -> list[str]:
        """``java`` with the broker's JVM options, then ``args`` (more options, the main class and its arguments)."""
        return [
            self._java,
            f"-Xmx{self._heap_mb}m",
            *os.environ.get("TRADEPLAT_KAFKA_GC_OPTS", "-XX:+UseG1GC -XX:MaxGCPauseMillis=20").split(),
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            *os.environ.get("TRADEPLAT_KAFKA_JVM_OPTS", "").split(),
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.log_dir}",
            "-cp",
            f"{self.libs_dir}/*",
            *args,
        ]

    def _format_storage_once(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            # "--cluster-id=" form: a base64 id may start with "-", which would read as an option
            self._java_command("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "--config", str(config)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting Kafka storage failed: {result.stdout}{result.stderr}")

    def _stop_stale(self) -> None:
        """Stop a broker left running on this state folder by a process that was killed."""
        pid_file = self.home / "broker.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip() or 0)
        if pid and pid_alive(pid) and str(self.home / "server.properties") in cmdline(pid):
            log.warning("stopping a stale embedded broker", extra={"pid": pid})
            terminate_pid(pid, 30)
        pid_file.unlink(missing_ok=True)

    # -- life cycle -------------------------------------------------------------------------
    def start(self, timeout_s: float = 90.0) -> str:
        """Start the broker and wait until it answers metadata; returns the bootstrap address."""
        self.launch()
        self._wait_healthy(timeout_s)
        assert self._process is not None
        log.info("embedded kafka ready", extra={"bootstrap_servers": self.bootstrap_servers, "pid": self._process.pid})
        return self.bootstrap_servers

    def launch(self) -> None:
        """Start the broker process without waiting for it; on the ports and data of the last start."""
        self._check_libs()
        for folder in (self.home, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        self._choose_ports()
        config = self._write_config()
        self._format_storage_once(config)
        with open(self.log_dir / "stdout.log", "ab") as stdout:
            self._process = subprocess.Popen(
                self._java_command(
                    *self._server_heap_options(),
                    f"-Xlog:gc,safepoint:file={self.gc_log}:time,uptime,level,tags:filecount=5,filesize=20m",
                    "kafka.Kafka",
                    str(config),
                ),
                stdout=stdout,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        (self.home / "broker.pid").write_text(str(self._process.pid))

    def _wait_healthy(self, timeout_s: float) -> None:
        admin = AdminClient({**admin_settings(self.bootstrap_servers), "log_level": 0})
        deadline = time.monotonic() + timeout_s
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(f"Kafka exited with status {self._process.returncode} during start-up:\n{self._log_tail()}")
            try:
                metadata = admin.list_topics(timeout=1.0)
                if metadata.brokers:
                    return
            except KafkaException:
                pass  # not answering yet
            time.sleep(0.1)
        self.stop()
        raise BrokerError(f"Kafka did not answer metadata within {timeout_s:.0f}s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        return "\n".join(tail_lines(self.log_dir / name, lines) for name in ("stdout.log", "server.log")).strip()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Controlled shutdown (SIGTERM), then SIGKILL after ``timeout_s``."""
        if self._process is None:
            return
        if self._process.poll() is None:
            terminate_pid(self._process.pid, timeout_s)
        self._process.wait()
        self._process = None
        (self.home / "broker.pid").unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would (for fault tests); the exit status stays readable."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
