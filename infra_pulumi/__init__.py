"""The Pulumi program that provisions the platform on AWS (EC2 near each exchange, Kafka,
PostgreSQL, WireGuard), unit-tested offline on Pulumi's mocks."""
