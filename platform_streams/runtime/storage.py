"""Stages whose outputs are rows for a database, not Kafka records (persistence sinks).

``handle`` stays pure and returns records; the runtime hands them to the stage's
``store`` before the batch's offsets can be committed. A :class:`TransientStoreError`
(connection lost, server restarting) is retried with backoff for as long as it
takes; any other error is the data's fault, and the batch is stored message by
message so only the messages whose rows fail are dead-lettered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from platform_streams.runtime.output import Output

log = logging.getLogger(__name__)

MessageT = TypeVar("MessageT")


class TransientStoreError(RuntimeError):
    """A write that may succeed if retried; the runtime retries it without committing."""


class StoreInterrupted(RuntimeError):
    """Shutdown was requested while a write was still failing; nothing was committed."""


def split_records(outputs: Iterable[Any]) -> tuple[list[Output], list[Any]]:
    """Kafka outputs and the other records (rows), in their original order."""
    kafka: list[Output] = []
    records: list[Any] = []
    for item in outputs:
        (kafka if isinstance(item, Output) else records).append(item)
    return kafka, records


def retry_transient(
    write: Callable[[], None],
    should_stop: Callable[[], bool],
    on_retry: Callable[[TransientStoreError], None],
    pause: Callable[[float], None] = time.sleep,
) -> None:
    """Run ``write`` until it does not raise :class:`TransientStoreError` (backoff 0.1 s → 5 s, waited
    by ``pause``, which a daemon uses to keep its heartbeats going)."""
    delay = 0.1
    while True:
        try:
            write()
            return
        except TransientStoreError as exc:
            if should_stop():
                raise StoreInterrupted(f"stopped while the store was failing: {exc}") from exc
            on_retry(exc)
            log.warning("store failed; retrying", extra={"error": str(exc), "retry_in_s": delay})
            pause(delay)
            delay = min(delay * 2, 5.0)


def store_isolating_failures(
    store: Callable[[list[Any]], None],
    handler: Callable[[Sequence[MessageT]], Iterable[Any]],
    messages: Sequence[MessageT],
    records: list[Any],
    should_stop: Callable[[], bool],
    on_retry: Callable[[TransientStoreError], None],
    pause: Callable[[float], None] = time.sleep,
) -> tuple[list[Output], list[tuple[MessageT, Exception]]]:
    """Store ``records`` (what ``handler`` made of ``messages``); on a data error, store message
    by message. Returns the Kafka outputs of the messages stored and the failures."""
    try:
        retry_transient(lambda: store(records), should_stop, on_retry, pause)
        return [], []
    except (TransientStoreError, StoreInterrupted):
        raise
    except Exception as batch_error:  # the data's fault: find which messages
        log.warning("batch store failed; isolating the bad messages", extra={"error": str(batch_error)})
    kafka: list[Output] = []
    failures: list[tuple[MessageT, Exception]] = []
    for message in messages:
        try:
            outputs, rows = split_records(handler((message,)))
            retry_transient(lambda rows=rows: store(rows), should_stop, on_retry, pause)
            kafka.extend(outputs)
        except (TransientStoreError, StoreInterrupted):
            raise
        except Exception as error:  # dead-lettered with its reason by the caller
            failures.append((message, error))
    return kafka, failures
