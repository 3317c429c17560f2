"""Processing: candles folded from trades, and the indicator library that runs both incrementally
(in the processing daemon) and in batch over polars frames (for the control plane)."""
