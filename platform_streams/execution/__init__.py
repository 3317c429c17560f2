"""Execution: orders at the exchange and their life cycle, fills, positions.

Pure parts first — :mod:`order_lifecycle` (an order's states, folding racing reports) and
:mod:`positions` (positions from fills, exact) — under the execution daemons.
"""
