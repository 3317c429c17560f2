"""Persistence sinks: canonical topics into PostgreSQL, in batches, idempotent on replay."""
