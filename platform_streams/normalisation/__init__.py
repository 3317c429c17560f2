"""Normalisation: ``md.raw`` frames into canonical trades, books and top of book, with each
exchange's book rules enforced (gaps and checksum mismatches trigger a resync)."""
