"""The stream runtime: the consume → handle → produce → commit loop, written once.

A stage subclasses :class:`StreamDaemon` and implements a pure ``handle(batch)``;
the runtime owns batching, delivery tracking and commits (at-least-once),
dead-lettering, heartbeats, the stall watchdog, metrics and shutdown.
"""

from platform_streams.runtime.daemon import DaemonSettings, StreamDaemon
from platform_streams.runtime.dedupe import Deduplicator
from platform_streams.runtime.output import Output
from platform_streams.runtime.source import SourceDaemon, SourceSettings

__all__ = ["DaemonSettings", "Deduplicator", "Output", "SourceDaemon", "SourceSettings", "StreamDaemon"]
