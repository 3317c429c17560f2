"""The generic adapter: any exchange ccxt.pro supports, through ccxt's unified structures.

Ingestion (``platform_streams.ingestion.ccxt_daemon``) writes ccxt's trades and order
books to ``md.raw`` as small JSON frames in the ``ccxt`` format with decimal-text
numbers; this package parses them into canonical events like any exchange adapter.
"""
