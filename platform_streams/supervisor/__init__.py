"""Local supervisor: runs a deployment spec's daemons as child processes, restarts crashed
ones with backoff, stops them all cleanly, and reports their state."""
