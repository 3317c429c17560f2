"""The streaming side in Dagster: topics and tables as external assets, stream deployments, and
the sensor that records their throughput, lag, freshness and health."""
