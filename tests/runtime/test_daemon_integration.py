"""The runtime against the real broker: consume, produce, dead-letter, crash and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from platform_streams.demo.passthrough import PassThroughDaemon, PassThroughSettings
from platform_streams.runtime.dedupe import Deduplicator
from platform_streams.schemas import DeadLetter, Heartbeat, TypedDecoder, decode
from tests.kafka_helpers import DaemonThread, make_trades, produce_events, produce_raw, read_until


def settings(bootstrap: str, inputs: str, output: str, **extra) -> PassThroughSettings:
    return PassThroughSettings(
        name="passthrough-test",
        group=f"group-{time.time_ns()}",
        bootstrap_servers=bootstrap,
        inputs=[inputs],
        output=output,
        metrics_port=-1,
        heartbeat_interval_s=0.5,
        **extra,
    )


def event_ids(messages) -> list[str]:
    return [decode(m.value()).event_id for m in messages]


class IdsSeen:
    """A ``read_until`` condition: every wanted event id has been read (decodes each message once)."""

    def __init__(self, wanted: set[str]) -> None:
        self.wanted = wanted
        self.seen: set[str] = set()
        self.counted = 0

    def __call__(self, got) -> bool:
        self.seen.update(decode(m.value()).event_id for m in got[self.counted :])
        self.counted = len(got)
        return self.wanted <= self.seen


def test_daemon_consumes_and_produces_through_the_broker(kafka_bootstrap, topic_factory) -> None:
    source, sink, beats = topic_factory("in"), topic_factory("out"), topic_factory("hb", 1)
    trades = make_trades(3_000)
    produce_events(kafka_bootstrap, source, trades)
    with DaemonThread(PassThroughDaemon(settings(kafka_bootstrap, source, sink, heartbeat_topic=beats))) as runner:
        out = read_until(kafka_bootstrap, sink, lambda got: len(got) >= len(trades))
        heartbeats = read_until(
            kafka_bootstrap, beats, lambda got: any(TypedDecoder(Heartbeat).decode(m.value()).lags for m in got)
        )
    assert sorted(event_ids(out)) == sorted(t.event_id for t in trades)
    # keys are kept, so each instrument's events stay in order within their partition
    per_key: dict[bytes, list[int]] = {}
    for message in out:
        per_key.setdefault(message.key(), []).append(decode(message.value()).sequence)
    assert all(seqs == sorted(seqs) for seqs in per_key.values())
    beat = TypedDecoder(Heartbeat).decode(heartbeats[-1].value())
    assert beat.daemon == "passthrough-test" and {lag.topic for lag in beat.lags} == {source}
    assert runner.daemon.messages_in == len(trades)


def test_malformed_message_is_dead_lettered_while_the_rest_flow(kafka_bootstrap, topic_factory) -> None:
    source, sink, dead, beats = topic_factory("in"), topic_factory("out"), topic_factory("dead"), topic_factory("hb", 1)
    trades = make_trades(500)
    produce_events(kafka_bootstrap, source, trades[:250])
    produce_raw(kafka_bootstrap, source, [(b"bad-1", b"\x93not an event"), (b"bad-2", b"")])
    produce_events(kafka_bootstrap, source, trades[250:])
    daemon = PassThroughDaemon(settings(kafka_bootstrap, source, sink, deadletter_topic=dead, heartbeat_topic=beats))
    with DaemonThread(daemon):
        out = read_until(kafka_bootstrap, sink, lambda got: len(got) >= len(trades))
        letters = read_until(kafka_bootstrap, dead, lambda got: len(got) >= 2)
        # heartbeats carry the daemon's last error and their own interval to `tradeplat status`
        reported = read_until(
            kafka_bootstrap, beats, lambda got: any(TypedDecoder(Heartbeat).decode(m.value()).errors >= 2 for m in got)
        )
    beat = TypedDecoder(Heartbeat).decode(reported[-1].value())
    assert beat.interval_s == 0.5 and beat.last_error.startswith("dead letter: EventDecodeError")
    assert 0 < beat.last_error_ts_ns <= time.time_ns()
    assert sorted(event_ids(out)) == sorted(t.event_id for t in trades)
    records = sorted((TypedDecoder(DeadLetter).decode(m.value()) for m in letters), key=lambda r: r.key)
    assert [r.key for r in records] == [b"bad-1", b"bad-2"]
    assert [r.payload for r in records] == [b"\x93not an event", b""]
    assert all(r.source_topic == source and "EventDecodeError" in r.reason for r in records)
    assert all(r.daemon == "passthrough-test" for r in records)


@pytest.mark.e2e
def test_kill_minus_9_mid_stream_loses_nothing_and_dedupes_to_exactly_once(kafka_bootstrap, topic_factory, tmp_path) -> None:
    source, sink = topic_factory("in", 6), topic_factory("out", 6)
    trades = make_trades(20_000, instruments=50)
    values = {
        "name": "passthrough-crash",
        "group": f"crash-{time.time_ns()}",
        "inputs": [source],
        "output": sink,
        "metrics_port": -1,
        "batch_max": 200,
    }
    command = [sys.executable, "-m", "platform_streams.cli.main", "daemon", "passthrough", "--values-json", json.dumps(values)]
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    log = open(tmp_path / "daemon.log", "wb")
    first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        producer = threading.Thread(target=produce_events, args=(kafka_bootstrap, source, trades, 4_000))
        producer.start()
        partial = read_until(kafka_bootstrap, sink, lambda got: len(got) >= 5_000, timeout_s=90)
        assert len(partial) >= 5_000, "daemon produced too little before the kill"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        producer.join()
        second = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            out = read_until(kafka_bootstrap, sink, IdsSeen({t.event_id for t in trades}), timeout_s=120)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
        log.close()
    ids = event_ids(out)
    assert set(ids) == {t.event_id for t in trades}  # every input appears at least once
    dedupe = Deduplicator()
    unique = [i for i in ids if dedupe.first_time(i)]
    assert len(unique) == len(trades) and sorted(unique) == sorted(t.event_id for t in trades)
