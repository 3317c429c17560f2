"""The ``tradeplat`` command line."""
