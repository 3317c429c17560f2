"""Jobs: operations launched from the Dagster UI."""
