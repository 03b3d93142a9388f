"""Load and soak on one replica: locust, headless on loopback, against a real `learnloop serve` process
on a private copy of the bundled corpus, with the server's RSS sampled over the run (psutil).

Traffic (bench/locustfile.py): half searches, 40% /ask, 10% POST /reflections, 50-300 ms think
time; 20 users for 10 minutes by default, `--quick` one minute. Questions are the eval sets'
(answerable and not, so knowledge gaps pile up as they do in use).

The warm-up asks every question one at a time, then again from as many clients as the run has
users, so the request threads the run will use exist (growth is also given from the serial pass).
RSS growth is told apart from what the added reflections account for: after the run a second
server starts on the final catalog and gets the same warm-up; its RSS less the first server's
after warm-up is the reflections' share, and the growth beyond it is what the run itself left.
Profiling (`--profile FILE`) runs the server under py-spy and writes its samples as collapsed stacks.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from bench.common import REPO, corpus_copy, questions
from bench.reflections import lesson
from tests.conftest import free_port

USERS = 20
MINUTES = 10.0
QUICK_MINUTES = 1.0
RSS_EVERY_S = 1.0
START_TIMEOUT_S = 300.0
BIN = Path(sys.executable).parent
MB = 1024 * 1024


def run(quick: bool, users: int = USERS, minutes: float | None = None, profile: Path | None = None) -> dict:
    minutes = minutes or (QUICK_MINUTES if quick else MINUTES)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = corpus_copy(root)
        env = os.environ | {"LEARNLOOP_HOME": str(settings.home), "LEARNLOOP_CORPUS": str(settings.corpus), "PYTHONPATH": str(REPO)}
        subprocess.run([str(BIN / "learnloop"), "ingest", "--json"], env=env, cwd=root, check=True, stdout=subprocess.DEVNULL)
        plan = root / "plan.json"
        plan.write_text(json.dumps({"questions": questions(), "reflections": [lesson(i) for i in range(5000)]}))
        with serving(root, env, "soak", profile) as (url, server):
            rss_serial, rss_warm = warm_up(url, server, users)
            samples = Sampler(server)
            with samples:
                locust = swarm(root, url, plan, users, minutes)
            healthz = httpx.get(f"{url}/healthz").json()
        shutil.rmtree(settings.home / "index", ignore_errors=True)  # derived files: the restart reads the catalog, as a new replica would
        with serving(root, env, "restart", None) as (url, server):
            _, rss_restart = warm_up(url, server, users)
    return report(locust, samples, (rss_serial, rss_warm), rss_restart, healthz, users, minutes)


@contextmanager
def serving(root: Path, env: dict, name: str, profile: Path | None) -> Iterator[tuple[str, psutil.Process]]:
    """`learnloop serve` on a free loopback port, ready (/readyz 200), stopped on exit; the log goes to a file."""
    port = free_port()
    command = [str(BIN / "learnloop"), "serve", "--port", str(port)]
    if profile is not None:
        command = [str(BIN / "py-spy"), "record", "--format", "raw", "--threads", "--rate", "50", "-o", str(profile), "--", *command]
    with (root / f"{name}.log").open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        launched = psutil.Process(process.pid)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, process, root / f"{name}.log")
            yield url, (launched.children()[0] if profile is not None else launched)
        finally:
            if process.poll() is None:  # under py-spy, the server is stopped and py-spy left to write its samples and exit
                (launched.children() or [launched])[0].terminate()
            process.wait(60)


def wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not become ready (exit status {process.poll()}); its log ends:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def warm_up(url: str, server: psutil.Process, users: int) -> tuple[float, float]:
    """Every question searched and asked once, one at a time (caches, allocator and connections warm),
    then again by `users` clients at once: each request thread the run will use keeps about 1.5 MB of
    its own for good (its stack and allocator caches; README, Load and soak), bounded by the pool's
    40 threads, which is the server at work rather than growth. The RSS after each pass, in MB."""

    def search_and_ask(client: httpx.Client, question: str) -> None:
        client.get("/search", params={"q": question}).raise_for_status()
        client.post("/ask", json={"question": question}).raise_for_status()

    with httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_connections=users)) as client:
        for question in questions():
            search_and_ask(client, question)
        serial = server.memory_info().rss / MB
        with ThreadPoolExecutor(users) as pool:
            list(pool.map(lambda question: search_and_ask(client, question), questions()))
    return serial, server.memory_info().rss / MB


class Sampler:
    """The server's RSS every RSS_EVERY_S seconds, on a thread, while the `with` block runs."""

    def __init__(self, server: psutil.Process) -> None:
        self.server = server
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Sampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self.samples.append((round(time.monotonic() - self._started, 1), round(self.server.memory_info().rss / MB, 1)))
            if self._stop.wait(RSS_EVERY_S):
                return


def swarm(root: Path, url: str, plan: Path, users: int, minutes: float) -> dict:
    """Run locust headless; its stats per endpoint (CSV) and every response's status (the locustfile's tally)."""
    statuses = root / "statuses.json"
    command = [
        str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless", "--host", url,
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{round(minutes * 60)}s",
        "--csv", str(root / "locust"), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30",
    ]
    env = os.environ | {"SOAK_PLAN": str(plan), "SOAK_STATUSES": str(statuses)}
    subprocess.run(command, env=env, cwd=root, check=False, stdout=subprocess.DEVNULL)  # exit 1 when any request failed: counted below
    with (root / "locust_stats.csv").open() as stats:
        rows = list(csv.DictReader(stats))
    return {"rows": rows, "statuses": json.loads(statuses.read_text())}


def report(locust: dict, sampler: Sampler, warm: tuple[float, float], rss_restart: float, healthz: dict, users: int, minutes: float) -> dict:
    statuses: dict[str, int] = locust["statuses"]
    endpoints = {}
    for row in locust["rows"]:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        endpoints[name] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "5xx": sum(n for key, n in statuses.items() if (name == "all" or key.split()[0] == name) and key.split()[1].startswith("5")),
            "rps": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]),
            "p90_ms": float(row["90%"]),
            "p99_ms": float(row["99%"]),
            "max_ms": round(float(row["Max Response Time"])),
        }
    rss = [mb for _, mb in sampler.samples]
    end = rss[-1]
    rss_serial, rss_warm = warm
    share = rss_restart - rss_warm
    return {
        "users": users,
        "minutes": minutes,
        "mix": {"/search": 0.5, "/ask": 0.4, "/reflections": 0.1},
        "think_ms": [50, 300],
        "server_errors_5xx": endpoints["all"]["5xx"],
        "endpoints": endpoints,
        "statuses": statuses,
        "reflections_added": statuses.get("/reflections 201", 0),
        "chunks_at_end": healthz["chunks"],
        "rss_mb": {
            "after_serial_warm_up": round(rss_serial, 1),
            "after_warm_up": round(rss_warm, 1),
            "end": end,
            "peak": max(rss),
            "growth_pct": round(100 * (end - rss_warm) / rss_warm, 1),
            "growth_from_serial_warm_up_pct": round(100 * (end - rss_serial) / rss_serial, 1),
            "restart_on_final_catalog": round(rss_restart, 1),
            "reflections_share": round(share, 1),
            "growth_beyond_reflections_pct": round(100 * (end - rss_warm - share) / rss_warm, 1),
        },
        "rss_mb_every_10s": [[t, mb] for t, mb in sampler.samples if t % 10 < RSS_EVERY_S],
    }
