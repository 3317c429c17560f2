"""Stream daemons of the trading platform and everything they share.

One package per concern: ``schemas`` (canonical events), ``runtime`` (the daemon
loop), ``embedded`` (local Kafka and PostgreSQL), ``supervisor``, ``database``,
``topics`` and the CLI.
"""
