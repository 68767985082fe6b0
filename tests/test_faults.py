"""Faults: a query worker killed from outside, a full request queue, and a store that cannot be
written. Each gets a clear error response and a line in the server's log, and the server keeps
serving. Real server, real processes, loopback HTTP."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

import httpx
import pyoxigraph
import pytest

from live_server import LiveServer

TOKEN = "fault-token-0123456789abcdef"
LIGHT = "ASK { ?s ?p ?o }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"   # ~10^11 rows: only the limit stops it
INSERT = 'INSERT DATA { GRAPH <http://example.org/faults> { <http://example.org/s> <http://example.org/p> "o" } }'


def ask(server, query: str = LIGHT, timeout: float = 30) -> httpx.Response:
    return httpx.get(server.url + "/sparql", params={"query": query},
                     headers={"Accept": "application/sparql-results+json"}, timeout=timeout)


def query_workers(server) -> list[int]:
    """The server's query worker processes (multiprocessing 'spawn' children), by their command lines."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except OSError:
            continue
        if parent == server.process.pid and b"spawn_main" in command and b"resource_tracker" not in command:
            pids.append(int(entry))
    return pids


def wait_for(condition, seconds: float = 30, what: str = "condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def test_a_killed_query_worker_gives_a_clear_error_and_is_replaced(built, tmp_path):
    server = LiveServer(["--dist", str(built.dist), "--workers", "1"], log=tmp_path / "server.log")
    try:
        [worker] = wait_for(lambda: query_workers(server), what="the query worker to start")
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.2)
        failed = ask(server)
        assert failed.status_code == 500, failed.text
        assert "stopped unexpectedly" in failed.text and "replaced" in failed.text
        assert wait_for(lambda: ask(server).status_code == 200, what="a query answered by the replacement")
        assert query_workers(server) and worker not in query_workers(server)
        assert "stopped unexpectedly" in server.log.read_text()
    finally:
        server.stop()


def test_a_full_queue_answers_503_and_the_server_recovers(built, tmp_path):
    server = LiveServer(["--dist", str(built.dist), "--workers", "1", "--query-timeout", "4"],
                        env={"STATECRAFT_QUEUE_TIMEOUT": "0.5"}, log=tmp_path / "server.log")
    try:
        runaway: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: runaway.append(ask(server, RUNAWAY)))
        thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        busy = ask(server)
        assert busy.status_code == 503 and "busy" in busy.text, busy.text
        assert time.monotonic() - started < 3, "the queue time-out did not answer promptly"
        thread.join(30)
        assert runaway[0].status_code == 503 and "limit" in runaway[0].text
        assert wait_for(lambda: ask(server).status_code == 200, what="a query after the runaway was stopped")
        log = server.log.read_text()
        assert "stayed busy" in log and "ran past the 4 s limit" in log
        metrics = httpx.get(server.url + "/metrics").text
        assert "statecraft_worker_restarts_total 1" in metrics, metrics
    finally:
        server.stop()


def test_writes_to_a_store_served_read_only_get_a_clear_error(built, tmp_path):
    """An Oxigraph store prepared elsewhere is served as it is, read-only, even with a token configured."""
    bare = tmp_path / "bare"
    store = pyoxigraph.Store(str(bare))
    store.bulk_load(path=str(built.dist / "statecraft.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    del store
    server = LiveServer(["--store", str(bare), "--no-build", "--workers", "1"],
                        env={"STATECRAFT_WRITE_TOKEN": TOKEN}, log=tmp_path / "server.log")
    try:
        refused = httpx.post(server.url + "/sparql", data={"update": INSERT},
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert refused.status_code == 503 and "served read-only" in refused.text, refused.text
        assert "a write was refused" in server.log.read_text()
        assert ask(server).status_code == 200
        assert not ask(server, "ASK { GRAPH <http://example.org/faults> { ?s ?p ?o } }").json()["boolean"]
    finally:
        server.stop()


def _make_unwritable(folder) -> str:
    """Make `folder` refuse new entries even for root (chattr +i), or by permissions for other users."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return "chmod"
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0:
        return "chattr"
    pytest.fail("cannot make a folder unwritable here (running as root without chattr +i): this test needs one")


def _make_writable(folder, how: str) -> None:
    if how == "chmod":
        os.chmod(folder, 0o755)
    else:
        subprocess.run([shutil.which("chattr"), "-i", str(folder)], check=True)


def test_a_store_that_cannot_be_written_gives_503_and_reads_go_on(built, tmp_path):
    store = tmp_path / "store"
    server = LiveServer(["--dist", str(built.dist), "--store", str(store), "--workers", "1", "--no-build"],
                        env={"STATECRAFT_WRITE_TOKEN": TOKEN}, log=tmp_path / "server.log")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    how = _make_unwritable(store)
    try:
        refused = httpx.post(server.url + "/sparql", data={"update": INSERT}, headers=auth, timeout=60)
        assert refused.status_code == 503 and "cannot be written" in refused.text, refused.text
        assert "refused (503)" in server.log.read_text()
        assert ask(server).status_code == 200
        _make_writable(store, how)
        how = None
        accepted = httpx.post(server.url + "/sparql", data={"update": INSERT}, headers=auth, timeout=60)
        assert accepted.status_code == 200, accepted.text
        assert ask(server, "ASK { GRAPH <http://example.org/faults> { ?s ?p ?o } }").json()["boolean"]
    finally:
        if how:
            _make_writable(store, how)
        server.stop()


def test_a_write_past_its_time_limit_is_stopped_and_nothing_is_committed(built, tmp_path):
    store = tmp_path / "store"
    server = LiveServer(["--dist", str(built.dist), "--store", str(store), "--workers", "1", "--no-build"],
                        env={"STATECRAFT_WRITE_TOKEN": TOKEN, "STATECRAFT_WRITE_TIMEOUT": "2"},
                        log=tmp_path / "server.log")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    runaway_write = ("INSERT { GRAPH <http://example.org/faults> { <http://example.org/s> <http://example.org/n> ?n } } "
                     "WHERE { { SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } "
                     "GRAPH ?z { ?g ?h ?i } } } }")   # the WHERE of an update reads the stored graphs, named here
    try:
        generations = sorted(p.name for p in store.iterdir())
        stopped = httpx.post(server.url + "/sparql", data={"update": runaway_write}, headers=auth, timeout=60)
        assert stopped.status_code == 503 and "nothing was committed" in stopped.text, stopped.text
        assert "ran past the 2 s limit" in server.log.read_text()
        assert sorted(p.name for p in store.iterdir() if not p.name.startswith("candidate-")) == generations
        assert ask(server).status_code == 200
        accepted = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(
            httpx.post(server.url + "/sparql", data={"update": INSERT}, headers=auth, timeout=60)),
            what="a write accepted by the replacement writer")
        assert accepted.json()["inserted"] == 1
        assert not [p for p in store.iterdir() if p.name.startswith("candidate-")], "the dead writer's copy was left"
    finally:
        server.stop()
