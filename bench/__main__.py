"""Run the benchmarks: `python -m bench` (all) or `python -m bench ingest query`."""

from __future__ import annotations

import json
import sys

from bench import ingest, query, reflections, slack
from bench.common import save

BENCHES = {"ingest": ingest.run, "query": query.run, "reflections": reflections.run, "slack": slack.run}


def main(names: list[str]) -> None:
    results = {}
    for name in names or list(BENCHES):
        print(f"== {name}", file=sys.stderr, flush=True)
        results[name] = BENCHES[name]()
        print(json.dumps(results[name], indent=2), flush=True)
    print(f"saved to {save(results)}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
