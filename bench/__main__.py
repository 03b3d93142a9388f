"""Run the benchmarks: `python -m bench` (all) or `python -m bench ingest query`; `--quick` is a
smoke run with few repetitions, saved apart from the real results."""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from bench import backends, bf16, embed, ingest, quality, query, recall, reflections, scale, slack, soak, web
from bench.common import save

BENCHES = {"ingest": ingest.run, "query": query.run, "reflections": reflections.run, "slack": slack.run, "quality": quality.run, "web": web.run,
           "soak": soak.run, "scale": scale.run, "recall": recall.run, "embed": embed.run,
           "backends": backends.run, "bf16": bf16.run}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="few repetitions, to check the benches run end to end")
    parser.add_argument("--chunks", type=int, default=scale.DEFAULT_CHUNKS, help=f"scale: chunks in the grown catalog; recall: passages embedded (default {scale.DEFAULT_CHUNKS:,})")
    parser.add_argument("--json", action="store_true", help="print each result as one line of JSON")
    parser.add_argument("--users", type=int, default=soak.USERS, help=f"soak: simulated users (default {soak.USERS})")
    parser.add_argument("--minutes", type=float, help=f"soak: length of the run (default {soak.MINUTES:g}, --quick {soak.QUICK_MINUTES:g})")
    parser.add_argument("--profile", type=Path, help="soak: run the server under py-spy and write its samples (collapsed stacks) here")
    args = parser.parse_args(argv)
    benches = {**BENCHES, "soak": partial(soak.run, users=args.users, minutes=args.minutes, profile=args.profile), "scale": partial(scale.run, chunks=args.chunks),
                "recall": partial(recall.run, passages=args.chunks)}
    unknown = [name for name in args.names if name not in BENCHES]
    if unknown:
        parser.error(f"no bench named {unknown[0]!r}: use any of {', '.join(BENCHES)}")
    for name in args.names or list(BENCHES):
        print(f"== {name}", file=sys.stderr, flush=True)
        result = benches[name](args.quick)
        print(json.dumps(result, indent=None if args.json else 2), flush=True)
        saved_as = f"scale-{result['chunks']}" if name == "scale" else name
        print(f"saved to {save(saved_as, result, args.quick)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
