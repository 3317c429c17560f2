"""Indicators recomputed from stored candles, one asset per configured indicator."""
