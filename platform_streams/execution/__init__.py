"""Execution: orders at the exchange and their life cycle, fills, positions.

Pure parts first — :mod:`order_lifecycle` (an order's states, folding racing reports),
:mod:`order_following` (which orders REST asks about while the private stream drives them) and
:mod:`positions` (positions from fills, exact) — under the execution daemons.
"""
