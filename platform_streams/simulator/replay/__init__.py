"""Replay of recorded exchange traffic over the exchanges' own endpoints: captures and the platform's raw archive.

``load_recording`` reads cryptofeed-capture JSONL files (``data/exchanges/``) or a
raw archive root; :class:`ReplayServer` serves it. See ``docs/simulator.md``.
"""

from platform_streams.simulator.replay.recording import RecordedConnection, RecordedRest, Recording, ReplayError
from platform_streams.simulator.replay.server import ReplayServer, run_replay
from platform_streams.simulator.replay.sources import load_recording

__all__ = ["RecordedConnection", "RecordedRest", "Recording", "ReplayError", "ReplayServer", "load_recording", "run_replay"]
