"""Structured JSON logs: one object per line with time, level, logger, message and extras.

Extras passed as ``log.info("...", extra={"topic": t})`` become fields. Values that
look like secrets (keys named ``secret``, ``api_key``, ``password``, ``signature``)
are redacted before they are written.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_SECRET_WORDS = ("secret", "api_key", "apikey", "password", "signature", "token", "passphrase")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line; ``static`` fields (daemon, instance) go on every line."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._static = static or {}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **self._static,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = "[redacted]" if _looks_secret(key) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def configure_logging(level: str | None = None, **static: Any) -> None:
    """Send JSON logs to stderr at ``level`` (default ``$TRADEPLAT_LOG_LEVEL`` or INFO)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(static))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("TRADEPLAT_LOG_LEVEL", "INFO")).upper())
