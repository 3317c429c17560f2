"""Strategy hosts: one process runs many strategy deployments off one read of the market data,
fanned out by instrument, each isolated from the others' failures (docs/strategies.md)."""
