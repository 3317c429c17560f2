"""What the commands read from the environment."""

from __future__ import annotations

import os

from platform_streams.settings import ConfigError


def required_env(name: str, hint: str = "") -> str:
    """``$name``, or a configuration error saying it is not set."""
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(f"{name} is not set{f' ({hint})' if hint else ''}")
    return value
