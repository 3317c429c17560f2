"""Exchange adapters' pure edge: raw exchange frames and metadata become canonical events and instruments.

One package per exchange with the same file names (``messages``, ``instruments``, ``parser``,
``book_sync``, ``endpoints``); shared types live in :mod:`.base`, :mod:`.instruments`,
:mod:`.limits`, :mod:`.decimal_text` and :mod:`.timestamps`. Nothing here does I/O.
"""
