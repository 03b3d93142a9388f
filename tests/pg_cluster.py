"""A throwaway PostgreSQL cluster of a test's own (initdb + pg_ctl on a free port), so a test can stop
and restart the database server without touching the machine's shared one."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from index import background
from tests.conftest import free_port


def _pg_bin(tool: str) -> str:
    """The newest installed PostgreSQL's `tool` (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(Path(p).parts[-3]))
    path = found[-1] if found else shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is not installed")
    return path


class OwnCluster:
    """initdb in a fresh folder, then start and stop at will; removed on exit.

    PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="learnloop-pg-"))
        self.data = self.folder / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres", "postgres")
        self._databases = {"postgres"}

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> OwnCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self._databases:  # no worker may go on retrying against a cluster that is gone
            background.close_workers_of(name)
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self._databases.add(name)
        return self.url(name)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as, _pg_bin(tool), *args], capture_output=True, text=True, timeout=120, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}")


def wait_until(condition: Callable[[], object], timeout: float, every: float = 0.2, what: str = "condition") -> None:
    """Poll `condition` until it is true, failing after `timeout` seconds (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(every)
