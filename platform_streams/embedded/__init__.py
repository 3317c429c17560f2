"""The embedded stack: Apache Kafka (single-node KRaft on the machine's Java) and PostgreSQL
(the pgserver wheel), run as supervised children. ``KAFKA_BOOTSTRAP_SERVERS`` and
``DATABASE_URL`` replace either with an external server; nothing outside this package
knows which one it got."""
