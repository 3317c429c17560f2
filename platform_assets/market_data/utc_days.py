"""A daily partition's UTC day as a time range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of ``day`` in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)
