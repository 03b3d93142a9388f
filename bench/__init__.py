"""Benchmarks (not tests): ingest throughput, query latency, HTTP latency, reflection writes, Slack turnaround.

Run with `make bench` (or `python -m bench [names]`). Figures are medians; each bench reports a
baseline measured in the same run and the ratio to it. Results go to bench/results/latest.json.
"""
