"""Reference data: every venue's instruments as ingestion lists them and the platform stores them."""

from platform_streams.reference.listing import read_published_instruments, withdrawn_instruments
from platform_streams.reference.stored_instruments import (
    StoredInstrument,
    StoredInstrumentError,
    fetch_instruments,
    load_instruments,
)

__all__ = [
    "StoredInstrument",
    "StoredInstrumentError",
    "fetch_instruments",
    "load_instruments",
    "read_published_instruments",
    "withdrawn_instruments",
]
