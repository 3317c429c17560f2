"""PostgreSQL schema: ordered SQL migrations applied once and recorded."""
