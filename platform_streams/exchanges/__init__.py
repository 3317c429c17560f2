"""Venue adapters: everything the platform knows about each venue, one package per venue with the same
file names (``adapter``, ``endpoints``, ``feed``, ``instruments``, ``messages``, ``parser``,
``book_sync``), listed in :mod:`.registry`.

The contract is :mod:`.venue_adapter` (and the parser base in :mod:`.base`); shared pieces live in
:mod:`.instruments`, :mod:`.limits`, :mod:`.symbol_scales`, :mod:`.decimal_text` and
:mod:`.timestamps`, and what Kraken's v1 and v2 venues share in :mod:`.kraken_websocket`. Adapters build on ``platform_streams.books`` and the schemas; nothing here does I/O.
"""
