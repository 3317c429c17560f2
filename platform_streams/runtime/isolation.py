"""Run a stage's handler on a batch; if it raises, isolate the failing messages one by one.

The fast path hands the whole batch to ``handle``. Only when that raises does the
runtime retry message by message, so one bad message costs a dead letter, not the
batch. Handlers must therefore not keep side effects from a batch that raised
(the pure-function contract of a stage).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

MessageT = TypeVar("MessageT")
OutputT = TypeVar("OutputT")


def handle_isolating_failures(
    handler: Callable[[Sequence[MessageT]], Iterable[OutputT]], batch: Sequence[MessageT]
) -> tuple[list[OutputT], list[tuple[MessageT, Exception]]]:
    """Return ``(outputs, failures)``; ``failures`` pairs each bad message with its exception."""
    try:
        return list(handler(batch)), []
    except Exception as batch_error:  # any handler error is the message's fault until isolated
        if len(batch) == 1:
            return [], [(batch[0], batch_error)]
    outputs: list[OutputT] = []
    failures: list[tuple[MessageT, Exception]] = []
    for message in batch:
        try:
            outputs.extend(handler((message,)))
        except Exception as error:  # dead-lettered with its reason by the caller
            failures.append((message, error))
    return outputs, failures
