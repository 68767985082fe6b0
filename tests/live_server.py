"""The real endpoint (`statecraft serve`) in a subprocess on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the server process (Linux): get SIGTERM if pytest itself is killed, so no server outlives the run."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class LiveServer:
    """Started and answering /health when constructed; RuntimeError (with the log's tail) otherwise.

    The server runs with the defaults plus `env`: STATECRAFT_* variables of the calling shell are not
    inherited. It gets its own process group, so stop() also ends its query workers."""

    def __init__(self, args: list[str], env: dict | None = None, log: Path | None = None,
                 log_level: str = "info", root: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("STATECRAFT_")}
        output = open(log, "wb") if log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "statecraft.cli", *(["--root", str(root)] if root else []), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", log_level, *args],
                cwd=ROOT, env={**inherited, "PYTHONPATH": str(ROOT), **(env or {})},
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            if log:
                output.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode} before answering "
                                   f"/health:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not answer /health within {STARTUP_SECONDS} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log else "(no log)"
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Stop the server, then anything left in its process group (its query workers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait(5)


class OxigraphServer:
    """The Oxigraph server (PyPI `oxigraph`) on a free loopback port: the external engine of the
    remote-engine tests. Read-write, so that `statecraft push` can load it."""

    def __init__(self, location: Path, union_default_graph: bool = True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.query_url, self.store_url, self.update_url = self.url + "/query", self.url + "/store", self.url + "/update"
        executable = Path(sys.executable).parent / "oxigraph"
        command = [str(executable), "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(command + (["--union-default-graph"] if union_default_graph else []),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.query_url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Oxigraph server ({executable}) did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
