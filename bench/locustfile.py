"""Locust users for `python -m bench soak`: half searches, 40% questions, 10% reflections, with 50-300 ms
between a user's requests.

Kept free of the app's imports (locust patches the standard library with gevent on import): what to
ask and what to share comes from the JSON plan that bench/soak.py writes (SOAK_PLAN), and the count
of responses by status goes to SOAK_STATUSES when locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["SOAK_PLAN"]).read_text())
STATUSES: Counter[str] = Counter()
_shared = itertools.count()


@events.request.add_listener
def _count_status(name: str, response: object = None, **_: object) -> None:
    """Every response's status per endpoint (0: no response at all), so 5xx are counted exactly."""
    STATUSES[f"{name} {getattr(response, 'status_code', 0) or 0}"] += 1


@events.quitting.add_listener
def _save_statuses(**_: object) -> None:
    Path(os.environ["SOAK_STATUSES"]).write_text(json.dumps(dict(STATUSES)))


class Visitor(HttpUser):
    """One person using the API: searches precedents, asks questions, now and then shares a reflection."""

    wait_time = between(0.05, 0.3)

    @task(5)
    def search(self) -> None:
        self.client.get("/search", params={"q": random.choice(PLAN["questions"]), "k": 5}, name="/search")

    @task(4)
    def ask(self) -> None:
        self.client.post("/ask", json={"question": random.choice(PLAN["questions"])}, name="/ask")

    @task(1)
    def reflect(self) -> None:
        lessons = PLAN["reflections"]
        self.client.post("/reflections", json=lessons[next(_shared) % len(lessons)], name="/reflections")
