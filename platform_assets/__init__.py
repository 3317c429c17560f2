"""Dagster definitions: the platform's control plane (see ``definitions.py``)."""
