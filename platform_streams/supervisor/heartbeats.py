"""Tails ``ctl.heartbeat`` and keeps the latest heartbeat of each daemon instance (from the
topic's end: a heartbeat older than the supervisor says nothing about its processes)."""

from __future__ import annotations

import logging

from platform_streams.schemas import EventDecodeError, Heartbeat, TypedDecoder
from platform_streams.supervisor.topic_follower import TopicFollower
from platform_streams.topics import HEARTBEAT_TOPIC

log = logging.getLogger(__name__)


class HeartbeatListener:
    """Background reader of heartbeats that outlives broker outages (see :class:`TopicFollower`)."""

    def __init__(self, bootstrap_servers: str, topic: str = HEARTBEAT_TOPIC) -> None:
        self._decoder = TypedDecoder(Heartbeat)
        self.latest: dict[str, Heartbeat] = {}
        self._follower = TopicFollower(bootstrap_servers, topic, self._on_record, from_beginning=False)

    def start(self) -> None:
        self._follower.start()

    def stop(self) -> None:
        self._follower.stop()

    def _on_record(self, _key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            beat = self._decoder.decode(value)
        except EventDecodeError as exc:
            log.warning("undecodable heartbeat", extra={"error": str(exc)})
            return
        self.latest[beat.instance] = beat
