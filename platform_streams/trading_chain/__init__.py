"""The trading chain: strategies and risk chained in one process on the latency-critical path."""
