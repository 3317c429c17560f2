"""The platform's Dagster definitions: read this file to see what the control plane does."""

from __future__ import annotations

import dagster as dg

from platform_assets.jobs.platform_setup import platform_setup
from platform_assets.resources.platform_servers import platform_resources

defs = dg.Definitions(
    jobs=[platform_setup],
    resources=platform_resources(),
)
