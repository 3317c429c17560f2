"""Ingestion: exchange connections into ``md.raw``, frames unmodified, plus replays of archives."""
