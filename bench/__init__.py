"""Benchmarks (not tests): ingest, query and HTTP latency, reflection writes, Slack turnaround, and
the quality figures of the eval sets.

Run with `make bench` (or `python -m bench [names] [--quick]`). Every timing is paired with a
baseline measured in the same run, the two alternated call by call (bench.common.alternate).
Results go to bench/results/<name>.json, committed with the README figures they back.
"""
