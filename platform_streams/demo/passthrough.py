"""Pass-through stage: copies each input record to the output topic, key and headers kept.

With ``validate`` on, every value must decode as a canonical event; one that does
not is dead-lettered with the decode error, while the rest flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from confluent_kafka import Message

from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.schemas import decode


class PassThroughSettings(DaemonSettings, kw_only=True):
    output: str
    validate: bool = True


class PassThroughDaemon(StreamDaemon):
    """Copies ``inputs`` to ``output`` unchanged."""

    settings: PassThroughSettings

    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        topic = self.settings.output
        validate = self.settings.validate
        outputs = []
        for message in batch:
            value = message.value()
            if validate:
                decode(value)
            outputs.append(Output(topic, value, message.key(), message.headers()))
        return outputs
