"""Matching of API orders against the simulated books, with accounts, balances and fees."""
