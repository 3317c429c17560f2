-- Dead letters, kept queryable: every message a stage could not handle, whole,
-- with the reason. Keyed by the source record's position, so a replay of
-- md.deadletter inserts nothing twice.

CREATE TABLE dead_letters (
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    daemon           text        NOT NULL,
    exchange         text        NOT NULL DEFAULT '',
    error_type       text        NOT NULL,
    reason           text        NOT NULL,
    record_key       bytea,
    payload          bytea       NOT NULL,
    ts               timestamptz NOT NULL,
    PRIMARY KEY (source_topic, source_partition, source_offset, daemon)
);
CREATE INDEX dead_letters_by_time ON dead_letters (ts);
