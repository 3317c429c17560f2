"""Child-process plumbing: how a child's end is told, and the last line of its log."""

from __future__ import annotations

import signal
from pathlib import Path

from platform_streams.embedded.processes import describe_exit, last_line


def test_a_signal_death_is_named_and_its_stale_output_left_out() -> None:
    assert describe_exit(-signal.SIGKILL, "INFO started") == "killed by SIGKILL"
    assert describe_exit(-signal.SIGTERM) == "killed by SIGTERM"
    assert (
        describe_exit(1, "RuntimeError: raw frame delivery failed")
        == "exited with status 1: RuntimeError: raw frame delivery failed"
    )
    assert describe_exit(0) == "exited with status 0"
    assert describe_exit(None, "not ready within 3s") == "not ready within 3s"


def test_last_line_is_the_last_non_empty_one_and_bounded(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    assert last_line(log) == ""  # no file yet
    log.write_text("Traceback (most recent call last):\n  File x\nValueError: " + "x" * 900 + "\n\n  \n")
    assert last_line(log) == ("ValueError: " + "x" * 900)[:500]
