#!/usr/bin/env python
"""Statecraft's benchmark: this endpoint against its peers, on the same data and the same query mix, in one run.

Systems (``--systems``):
  ours       ``statecraft serve`` with an on-disk store (POST /sparql, GET /id/… pages)
  oxigraph   the Oxigraph server (PyPI ``oxigraph``, ``serve-read-only``): the ceiling for the same engine
  rdflib     rdflib-endpoint (PyPI), its CLI serving the N-Quads file: the Python peer
  inprocess  pyoxigraph in a Python process, no HTTP: the floor

For each size (``--sizes``), a corpus is generated (``statecraft.generate``; cached in ``--workdir``), each
system loads it, answers every query of the mix once (the row counts of all systems are compared), then
wrk (a separate process, on loopback) drives it at each client count (``--clients``). Results go to a JSON
file, a Markdown report (``--report``) and a plot. See benchmarks/README.md.

    python benchmarks/bench.py --smoke                       # CI: tiny corpus, short runs, all four systems
    python benchmarks/bench.py --sizes 100k,1M,10M           # the full benchmark (docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import http.client
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CQ_DIR = ROOT / "docs" / "queries"
OWN_QUERIES = HERE / "queries"
ALL_SYSTEMS = ("ours", "oxigraph", "rdflib", "inprocess")
LABELS = {"ours": "Statecraft (ours)", "oxigraph": "Oxigraph server", "rdflib": "rdflib-endpoint",
          "inprocess": "pyoxigraph in process"}
PEERS = ("oxigraph", "rdflib", "inprocess")
ENGINE_SYSTEMS = ("ours", "oxigraph", "inprocess")   # the same engine: their answers must agree exactly
TARGET_CLIENTS = 8
SC = "https://w3id.org/statecraft/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
STATECRAFT_BASE = "https://w3id.org/statecraft"

# The competency queries are read from docs/queries/ as they are; their class is given here, from their
# in-process time at 1M triples (statecraft.generate, seed 1): "heavy" where the engine's time dominates
# (cq06 7 ms, cq08 27 ms, the others 50 ms to 1.2 s), "small" where the HTTP round trip is most of the time
# (cq07: 0.5 ms).
CQ_CLASS = {"cq07": "small"}
CQ_DEFAULT_CLASS = "heavy"

ACCEPT = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
          "graph": "text/turtle", "page": "text/html"}


def say(*parts) -> None:
    print(*parts, flush=True)


# ------------------------------------------------------------------------------------------------
# Sizes, corpora
# ------------------------------------------------------------------------------------------------

def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


@dataclass
class Corpus:
    label: str
    target: int
    seed: int
    path: Path          # the folder with statecraft.nq and build-report.json
    triples: int
    generator: str
    generate_s: float | None
    articles: int | None
    record: str         # a record IRI of the corpus (a deployment), for the small DESCRIBE and page
    article_graph: str  # the named graph that record is in

    @property
    def nq(self) -> Path:
        return self.path / "statecraft.nq"


def _first_deployment(nq: Path) -> tuple[str, str]:
    """The first sc:MilitaryDeployment typed in an article graph, and that graph, by streaming the dump."""
    pattern = re.compile(r"^<([^>]+)> <" + re.escape(RDF_TYPE) + r"> <" + re.escape(SC + "MilitaryDeployment")
                         + r"> <([^>]+/graph/article/[^>]+)> \.$")
    with nq.open(encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line.rstrip("\n"))
            if m:
                return m.group(1), m.group(2)
    raise RuntimeError(f"{nq} has no sc:MilitaryDeployment in an article graph")


def generator_digest() -> str:
    """A digest of the generator's code: a cached corpus made by other code is made again."""
    import hashlib
    h = hashlib.sha256()
    h.update((ROOT / "statecraft" / "generate.py").read_bytes())
    return h.hexdigest()[:16]


def ensure_corpus(label: str, seed: int, workdir: Path) -> Corpus:
    target = parse_size(label)
    folder = workdir / f"corpus-{label}-seed{seed}"
    meta_path = folder / "bench-corpus.json"
    digest = generator_digest()
    if meta_path.is_file() and (folder / "statecraft.nq").is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator_digest") != digest:
            say(f"[{label}] the generator changed since {folder} was made: generating it again")
            meta = None
    else:
        meta = None
    if meta:
        say(f"[{label}] corpus cached in {folder} ({meta['triples']:,} triples, {meta['generator']})")
        return Corpus(label, target, seed, folder, meta["triples"], meta["generator"], meta.get("generate_s"),
                      meta.get("articles"), meta["record"], meta["article_graph"])
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    generator = "statecraft.generate"
    say(f"[{label}] generating ~{target:,} triples (seed {seed}) with statecraft.generate …")
    code = ("import sys, json; from pathlib import Path; from statecraft.generate import generate, triples_for_size; "
            "n = triples_for_size(int(sys.argv[1]), int(sys.argv[2])); "
            "r = generate(Path(sys.argv[3]), n, int(sys.argv[2]), say=lambda m: None); "
            "print(json.dumps({'articles': n, 'triples': r.get('triples')}))")
    out = subprocess.run([sys.executable, "-c", code, str(target), str(seed), str(folder)], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    articles = json.loads(out.stdout.strip().splitlines()[-1])["articles"]
    generate_s = time.perf_counter() - t0
    report = json.loads((folder / "build-report.json").read_text())
    triples = report.get("triples") or sum(report["triples_per_graph"].values())
    record, graph = _first_deployment(folder / "statecraft.nq")
    meta = {"triples": triples, "generator": generator, "generate_s": generate_s, "articles": articles,
            "record": record, "article_graph": graph, "seed": seed, "target": target, "generator_digest": digest}
    meta_path.write_text(json.dumps(meta, indent=1))
    say(f"[{label}] {triples:,} triples generated in {generate_s:.1f} s")
    return Corpus(label, target, seed, folder, triples, generator, generate_s, articles, record, graph)


# ------------------------------------------------------------------------------------------------
# The query mix
# ------------------------------------------------------------------------------------------------

@dataclass
class Query:
    name: str
    cls: str                 # small | heavy
    form: str                # select | ask | graph | page
    template: str            # SPARQL text or page path, with {{RECORD}} / {{ARTICLE_GRAPH}} placeholders
    source: str
    exercises: str
    peer_equivalent: str | None = None
    text: str = ""           # the template resolved for the current corpus

    def resolve(self, corpus: Corpus) -> None:
        text = self.template.replace("{{RECORD}}", corpus.record).replace("{{ARTICLE_GRAPH}}", corpus.article_graph)
        text = text.replace("{{RECORD_PATH}}", corpus.record[len(STATECRAFT_BASE):] if corpus.record.startswith(STATECRAFT_BASE)
                            else urlparse(corpus.record).path)
        self.text = text


def _form(sparql: str) -> str:
    body = "\n".join(line for line in sparql.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r"(?im)^\s*(PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)", " ", body)
    m = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
    if not m:
        raise ValueError("no query form found")
    return {"SELECT": "select", "ASK": "ask"}.get(m.group(1).upper(), "graph")


def _header(text: str, key: str) -> str | None:
    m = re.search(rf"(?im)^#\s*{key}:\s*(.+?)\s*$", text)
    return m.group(1) if m else None


def load_queries(pattern: str | None = None) -> list[Query]:
    queries = []
    for path in sorted(OWN_QUERIES.glob("*.rq")) + sorted(OWN_QUERIES.glob("*.page")):
        raw = path.read_text(encoding="utf-8")
        cls = (_header(raw, "class") or "").lower()
        if cls not in ("small", "heavy"):
            raise ValueError(f"{path}: needs a '# class: small' or '# class: heavy' header")
        exercises = " ".join(line.lstrip("# ").strip() for line in raw.splitlines()
                             if line.startswith("#") and not re.match(r"#\s*(class|peer-equivalent):", line))
        exercises = re.sub(r"^exercises:\s*", "", exercises)
        if path.suffix == ".page":
            page = next(line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#"))
            queries.append(Query(path.stem, cls, "page", page, str(path.relative_to(ROOT)), exercises,
                                 _header(raw, "peer-equivalent")))
        else:
            queries.append(Query(path.stem, cls, _form(raw), raw, str(path.relative_to(ROOT)), exercises))
    for path in sorted(CQ_DIR.glob("cq*.rq")):
        raw = path.read_text(encoding="utf-8")
        key = path.stem.split("-")[0]
        first = next((line.lstrip("# ").strip() for line in raw.splitlines() if line.startswith("#")), "")
        queries.append(Query(path.stem, CQ_CLASS.get(key, CQ_DEFAULT_CLASS), _form(raw), raw,
                             str(path.relative_to(ROOT)), first))
    if pattern:
        wanted = [p.strip() for p in pattern.split(",") if p.strip()]
        queries = [q for q in queries if any(re.search(p, q.name) for p in wanted)]
    return queries


# ------------------------------------------------------------------------------------------------
# Processes: every server in its own process group, all killed on exit, error or Ctrl-C
# ------------------------------------------------------------------------------------------------

_LIVE: set["Proc"] = set()


class Proc:
    def __init__(self, argv: list[str], log: Path, env: dict | None = None, stdin=subprocess.DEVNULL,
                 stdout=None, cwd: Path | None = None):
        self.argv = argv
        self.log = log
        self._log_file = log.open("ab")
        self.popen = subprocess.Popen(argv, stdin=stdin, stdout=stdout or self._log_file, stderr=self._log_file,
                                      start_new_session=True, env={**os.environ, **(env or {})},
                                      cwd=str(cwd or ROOT))
        self.pid = self.popen.pid
        _LIVE.add(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # the group may outlive its leader (worker processes)
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log_file.close()
        _LIVE.discard(self)

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _stop_all() -> None:
    for proc in list(_LIVE):
        proc.stop(grace=3)


def _on_signal(signum, frame):
    _stop_all()
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RssMonitor(threading.Thread):
    """Peak summed RSS of a process and all its descendants, polled every 100 ms, per phase."""

    def __init__(self, pid: int, phase: str = "load"):
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = phase
        self.peaks: dict[str, int] = {}
        self._stop_event = threading.Event()

    def sample(self) -> int:
        import psutil
        try:
            proc = psutil.Process(self.pid)
            procs = [proc] + proc.children(recursive=True)
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss = self.sample()
            if rss:
                self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
            self._stop_event.wait(0.1)

    def stop(self) -> dict[str, int]:
        self._stop_event.set()
        self.join(2)
        return dict(self.peaks)


def tree_cpu_seconds(pid: int) -> float:
    import psutil
    try:
        proc = psutil.Process(pid)
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def tree_cpu_busy(pid: int, window: float = 0.2) -> bool:
    before = tree_cpu_seconds(pid)
    time.sleep(window)
    return tree_cpu_seconds(pid) - before >= 0.1 * window


def wait_idle(pid: int, limit: float) -> float:
    """Wait until a server has finished leftover work (requests wrk abandoned): < 10 % of a core for 0.2 s."""
    t0 = time.perf_counter()
    last = tree_cpu_seconds(pid)
    while time.perf_counter() - t0 < limit:
        time.sleep(0.2)
        now = tree_cpu_seconds(pid)
        if now - last < 0.02:
            break
        last = now
    return time.perf_counter() - t0


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def dir_snapshot(path: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime) for p in path.rglob("*")
            if p.is_file() and p.name != "LOCK" and not p.name.startswith("LOG")}


# ------------------------------------------------------------------------------------------------
# HTTP
# ------------------------------------------------------------------------------------------------

def http_request(port: int, method: str, path: str, headers: dict, body: bytes | None, timeout: float):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, response.getheader("Content-Type", ""), data
    finally:
        conn.close()


def wait_ready(port: int, path: str, proc: Proc, limit: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if not proc.alive():
            raise RuntimeError(f"exited with {proc.popen.returncode} before it was ready:\n{proc.log_tail()}")
        try:
            status, _, _ = http_request(port, "GET", path, {"Accept": "application/sparql-results+json"}, None, 2)
            if status == 200:
                return time.perf_counter() - t0
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"not ready after {limit:.0f} s:\n{proc.log_tail()}")


def count_rows(body: bytes, content_type: str, form: str) -> int | None:
    import pyoxigraph as ox
    if form == "page":
        return None
    if form in ("select", "ask"):
        data = json.loads(body)
        return 1 if "boolean" in data else len(data["results"]["bindings"])
    head = body[:400].lstrip()
    fmt = ox.RdfFormat.RDF_XML if head.startswith(b"<?xml") or b"<rdf:RDF" in head else ox.RdfFormat.TURTLE
    return sum(1 for _ in ox.parse(body, format=fmt))


# ------------------------------------------------------------------------------------------------
# wrk
# ------------------------------------------------------------------------------------------------

LUA = r"""-- generated by benchmarks/bench.py: one request, sent again and again by every connection
local f = assert(io.open([==[{body_path}]==], "rb"))
local body = f:read("*a")
f:close()
wrk.method = "{method}"
wrk.path = [==[{path}]==]
{body_line}
wrk.headers["Accept"] = "{accept}"
{content_type_line}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
"""


def run_wrk(port: int, method: str, path: str, headers: dict, body: bytes | None, clients: int, seconds: int,
            timeout: float, threads: int, workdir: Path, tag: str) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    body_path = workdir / f"{tag}.body"
    body_path.write_bytes(body or b"")
    script = LUA.format(body_path=body_path, method=method, path=path,
                        body_line="wrk.body = body" if body else "",
                        accept=headers["Accept"],
                        content_type_line=(f'wrk.headers["Content-Type"] = "{headers["Content-Type"]}"'
                                           if "Content-Type" in headers else ""))
    lua = workdir / f"{tag}.lua"
    lua.write_text(script)
    argv = ["wrk", f"-t{max(1, min(threads, clients))}", f"-c{clients}", f"-d{seconds}s",
            f"--timeout={int(math.ceil(timeout))}s", "-s", str(lua), f"http://127.0.0.1:{port}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout + 30)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(line[len("BENCH-JSON "):])
    secs = r["duration_us"] / 1e6
    ok = r["requests"] - r["status"]
    return {"clients": clients, "seconds": secs, "requests": r["requests"], "ok": ok,
            "throughput": ok / secs if secs > 0 else None,
            "p50_ms": r["p50_us"] / 1000 if r["requests"] else None,
            "p99_ms": r["p99_us"] / 1000 if r["requests"] else None,
            "mean_ms": r["mean_us"] / 1000 if r["requests"] else None,
            "non_2xx": r["status"], "socket_errors": {k: r[k] for k in ("connect", "read", "write", "timeout") if r[k]},
            "bytes": r["bytes"], "load_generator": "wrk"}


# ------------------------------------------------------------------------------------------------
# Systems
# ------------------------------------------------------------------------------------------------

class System:
    name = ""
    parallelism = 2       # queries it runs at once (the machine has 2 cores)
    sharing = "ps"        # "ps": concurrent queries share the cores; "fifo": they queue and run one by one
    http = True
    restartable = True
    cheap_restart = False  # restarting (no reload) is quicker than waiting for abandoned queries

    def __init__(self, args, logs: Path):
        self.args = args
        self.logs = logs
        self.proc: Proc | None = None
        self.monitor: RssMonitor | None = None
        self.port = 0
        self.facts: dict = {}
        self.notes: list[str] = []

    def supports(self, q: Query) -> bool:
        return q.form != "page"

    def request(self, q: Query) -> tuple[str, str, dict, bytes | None]:
        return "POST", self.query_path, {"Accept": ACCEPT[q.form], "Content-Type": "application/sparql-query"}, \
            q.text.encode("utf-8")

    def probe(self, q: Query, timeout: float) -> dict:
        method, path, headers, body = self.request(q)
        t0 = time.perf_counter()
        try:
            status, ctype, data = http_request(self.port, method, path, headers, body, timeout)
        except (socket.timeout, TimeoutError):
            return {"ok": False, "timeout": True, "seconds": time.perf_counter() - t0,
                    "error": f"no answer within {timeout:.0f} s"}
        except (OSError, http.client.HTTPException) as error:
            return {"ok": False, "seconds": time.perf_counter() - t0, "error": f"{type(error).__name__}: {error}"}
        seconds = time.perf_counter() - t0
        if status != 200:
            return {"ok": False, "status": status, "seconds": seconds,
                    "error": f"HTTP {status}: {data[:300].decode('utf-8', 'replace')}"}
        try:
            rows = count_rows(data, ctype, q.form)
        except Exception as error:  # noqa: BLE001
            return {"ok": False, "status": status, "seconds": seconds,
                    "error": f"unreadable answer ({ctype}): {type(error).__name__}: {error}"}
        return {"ok": True, "status": status, "seconds": seconds, "rows": rows, "bytes": len(data),
                "content_type": ctype}

    def measure(self, q: Query, clients: int, seconds: int, timeout: float, probe_s: float = 0.0) -> dict:
        method, path, headers, body = self.request(q)
        # wrk's per-request time-out: a request may wait behind the other clients' (queued or sharing cores)
        timeout = min(600.0, max(timeout, 2 * clients * probe_s / self.parallelism + 10))
        result = run_wrk(self.port, method, path, headers, body, clients, seconds, timeout, self.args.wrk_threads,
                         self.logs / "wrk", f"{self.name}-{q.name}-c{clients}")
        # Requests wrk abandoned at the end may still be running (up to one query's time per client), and
        # would slow the next measurement down. Wait for them; a server that restarts in a second or two
        # without reloading (ours, Oxigraph) is restarted instead when they would take longer than that.
        if self.cheap_restart:
            result["drain_s"] = wait_idle(self.proc.pid, 3.0)
            if tree_cpu_busy(self.proc.pid):
                t0 = time.perf_counter()
                self.restart_after_timeout(self.corpus)
                result["restarted_s"] = time.perf_counter() - t0
        else:
            result["drain_s"] = wait_idle(self.proc.pid, min(300.0, max(timeout, 1.5 * clients * probe_s)))
        return result

    def memory(self) -> dict:
        return self.monitor.peaks if self.monitor else {}

    def stop(self) -> None:
        if self.monitor:
            self.monitor.stop()
        if self.proc:
            self.proc.stop()
            self.proc = None

    def _serve(self, argv: list[str], ready_path: str, phase: str, env: dict | None = None) -> float:
        self.proc = Proc(argv, self.logs / f"{self.name}.log", env=env)
        if self.monitor is None or not self.monitor.is_alive():
            self.monitor = RssMonitor(self.proc.pid, phase)
            self.monitor.start()
        else:
            self.monitor.pid, self.monitor.phase = self.proc.pid, phase
        t0 = time.perf_counter()
        ready = wait_ready(self.port, ready_path, self.proc, self.args.start_limit)
        return time.perf_counter() - t0 if ready is not None else None

    def restart_after_timeout(self, corpus: Corpus) -> None:
        """A server still busy with an abandoned query: stop it and start it again (reloading if it must)."""
        peaks = self.monitor.peaks if self.monitor else {}
        self.facts["restarts"] = self.facts.get("restarts", 0) + 1
        self.stop()
        self.monitor = None
        self.start_again(corpus)
        if self.monitor:
            for k, v in peaks.items():
                self.monitor.peaks[k] = max(v, self.monitor.peaks.get(k, 0))

    def start_again(self, corpus: Corpus) -> None:
        raise NotImplementedError


class Ours(System):
    name = "ours"
    sharing = "fifo"
    cheap_restart = True
    query_path = "/sparql"

    def __init__(self, args, logs):
        super().__init__(args, logs)
        self.parallelism = args.ours_workers

    def supports(self, q: Query) -> bool:
        return True

    def request(self, q: Query):
        if q.form == "page":
            return "GET", q.text, {"Accept": "text/html"}, None
        return super().request(q)

    def argv(self, corpus: Corpus, store: Path) -> list[str]:
        exe = BIN / "statecraft"
        head = [str(exe)] if exe.exists() else [sys.executable, "-m", "statecraft.cli"]
        return head + ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--dist", str(corpus.path),
                       "--store", str(store), "--no-build", "--workers", str(self.args.ours_workers),
                       "--log-level", "warning", "--query-timeout", str(self.args.query_limit)]

    def env(self) -> dict:
        # Requests may wait for a worker as long as ten queries take: with 8 or 32 clients and a slow query,
        # the endpoint's default (10 s) would answer 503 to requests that are only queued.
        return {"STATECRAFT_QUEUE_TIMEOUT": str(10 * self.args.query_limit),
                "STATECRAFT_MAX_RESULT_BYTES": str(self.args.max_result_mb * 1_000_000)}

    def start(self, corpus: Corpus, stores: Path) -> None:
        self.store = stores / f"ours-{corpus.label}-seed{corpus.seed}"
        self.corpus = corpus
        reuse = self.args.reuse_stores and (self.store / "statecraft-content-hash").is_file()
        if not reuse and self.store.exists():
            shutil.rmtree(self.store)
        self.port = free_port()
        load_s = self._serve(self.argv(corpus, self.store), "/health", "load", self.env())
        self.facts["load_s"] = None if reuse else load_s
        self.facts["first_start_s"] = load_s
        if reuse:
            self.notes.append("the store was reused (--reuse-stores): no load time measured")
        self.facts["store_bytes"] = dir_bytes(self.store)
        before = dir_snapshot(self.store)
        self.proc.stop()
        log = self.logs / f"{self.name}.log"
        offset = log.stat().st_size if log.exists() else 0
        self.port = free_port()
        self.facts["restart_s"] = self._serve(self.argv(corpus, self.store), "/health", "serve", self.env())
        after = dir_snapshot(self.store)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        with log.open("rb") as f:
            f.seek(offset)
            reopened = b"without reloading" in f.read()
        self.facts["restart_reloaded"] = bool(changed)
        self.facts["restart_changed_files"] = changed[:10]
        self.facts["restart_log_says_reopened"] = reopened
        try:
            _, _, data = http_request(self.port, "GET", "/health", {"Accept": "application/json"}, None, 5)
            self.facts["health"] = json.loads(data)
        except (OSError, ValueError, http.client.HTTPException):
            pass

    def start_again(self, corpus: Corpus) -> None:
        self.port = free_port()
        self._serve(self.argv(corpus, self.store), "/health", "serve", self.env())


class OxigraphServer(System):
    name = "oxigraph"
    cheap_restart = True
    query_path = "/query"

    def exe(self) -> str:
        exe = BIN / "oxigraph"
        return str(exe) if exe.exists() else (shutil.which("oxigraph") or "oxigraph")

    def argv(self) -> list[str]:
        # No --timeout-s: Oxigraph 0.5 starts a thread per query that sleeps for the whole time-out, and at
        # thousands of queries per second the threads run out (EAGAIN) and the server dies. A probe that
        # passes --query-limit gets the server restarted instead.
        return [self.exe(), "serve-read-only", "--location", str(self.store), "--bind", f"127.0.0.1:{self.port}",
                "--union-default-graph"]

    def _run_timed(self, argv: list[str], phase: str) -> float:
        proc = Proc(argv, self.logs / f"{self.name}.log")
        monitor = RssMonitor(proc.pid, phase)
        monitor.start()
        t0 = time.perf_counter()
        code = proc.popen.wait()
        seconds = time.perf_counter() - t0
        peaks = self.facts.setdefault("load_peaks", {})
        for k, v in monitor.stop().items():
            peaks[k] = max(v, peaks.get(k, 0))
        proc.stop()
        if code != 0:
            raise RuntimeError(f"{' '.join(argv)} exited with {code}:\n{proc.log_tail()}")
        return seconds

    def start(self, corpus: Corpus, stores: Path) -> None:
        self.store = stores / f"oxigraph-{corpus.label}-seed{corpus.seed}"
        self.corpus = corpus
        marker = self.store / "bench-loaded"
        reuse = self.args.reuse_stores and marker.is_file()
        if not reuse:
            if self.store.exists():
                shutil.rmtree(self.store)
            self.facts["load_command_s"] = self._run_timed(
                [self.exe(), "load", "--location", str(self.store), "--file", str(corpus.nq)], "load")
            self.facts["optimize_s"] = self._run_timed([self.exe(), "optimize", "--location", str(self.store)], "load")
            marker.write_text("ok\n")
        self.port = free_port()
        ready = self._serve(self.argv(), "/query?query=" + quote("ASK {}"), "load")
        self.facts["first_start_s"] = ready
        self.facts["load_s"] = None if reuse else self.facts["load_command_s"] + self.facts["optimize_s"] + ready
        if reuse:
            self.notes.append("the store was reused (--reuse-stores): no load time measured")
        self.facts["store_bytes"] = dir_bytes(self.store)
        self.proc.stop()
        self.port = free_port()
        self.facts["restart_s"] = self._serve(self.argv(), "/query?query=" + quote("ASK {}"), "serve")
        if self.monitor:
            for k, v in self.facts.pop("load_peaks", {}).items():
                self.monitor.peaks[k] = max(v, self.monitor.peaks.get(k, 0))

    def start_again(self, corpus: Corpus) -> None:
        self.port = free_port()
        self._serve(self.argv(), "/query?query=" + quote("ASK {}"), "serve")


class RdflibEndpoint(System):
    name = "rdflib"
    parallelism = 1
    # It runs each query inside its event loop, one at a time, and a large answer is sent only when the
    # loop is free: under load the first answers come back late, as when requests share one core.
    sharing = "ps"
    query_path = "/"
    restartable = False

    def argv(self, corpus: Corpus) -> list[str]:
        exe = BIN / "rdflib-endpoint"
        head = [str(exe)] if exe.exists() else [sys.executable, "-m", "rdflib_endpoint"]
        return head + ["serve", "--host", "127.0.0.1", "--port", str(self.port), str(corpus.nq)]

    def start(self, corpus: Corpus, stores: Path) -> None:
        self.port = free_port()
        self.facts["load_s"] = self._serve(self.argv(corpus), "/?query=" + quote("ASK {}"), "load")
        self.facts["restart_s"] = None  # in memory only: a restart is a full load
        self.monitor.phase = "serve"

    def start_again(self, corpus: Corpus) -> None:
        self.port = free_port()
        t = self._serve(self.argv(corpus), "/?query=" + quote("ASK {}"), "serve")
        self.notes.append(f"restarted after a query it could not finish (reloading took {t:.1f} s)")


class InProcess(System):
    name = "inprocess"
    http = False
    restartable = False

    def start(self, corpus: Corpus, stores: Path) -> None:
        t0 = time.perf_counter()
        self.proc = Proc([sys.executable, str(HERE / "inprocess.py"), str(corpus.nq)], self.logs / "inprocess.log",
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.monitor = RssMonitor(self.proc.pid, "load")
        self.monitor.start()
        line = self.proc.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"the in-process harness exited:\n{self.proc.log_tail()}")
        info = json.loads(line)
        self.facts["load_s"] = time.perf_counter() - t0
        self.facts["bulk_load_s"] = info["load_s"]
        self.facts["restart_s"] = None
        self.monitor.phase = "serve"

    def _call(self, command: dict, timeout: float) -> dict:
        self.proc.popen.stdin.write((json.dumps(command) + "\n").encode())
        self.proc.popen.stdin.flush()
        result: list = []
        reader = threading.Thread(target=lambda: result.append(self.proc.popen.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result:
            raise TimeoutError
        if not result[0]:
            raise RuntimeError(f"the in-process harness died:\n{self.proc.log_tail()}")
        return json.loads(result[0])

    def probe(self, q: Query, timeout: float) -> dict:
        try:
            r = self._call({"op": "probe", "query": q.text, "form": q.form}, timeout)
        except TimeoutError:
            return {"ok": False, "timeout": True, "seconds": timeout, "error": f"no answer within {timeout:.0f} s"}
        if not r.get("ok"):
            return {"ok": False, "error": r.get("error")}
        return {"ok": True, "seconds": r["seconds"], "rows": r["rows"], "bytes": r["bytes"]}

    def measure(self, q: Query, clients: int, seconds: int, timeout: float, probe_s: float = 0.0) -> dict:
        r = self._call({"op": "measure", "query": q.text, "form": q.form, "threads": clients, "duration": seconds},
                       seconds + timeout + 1.5 * clients * probe_s + 60)
        return {"clients": clients, "seconds": r["seconds"], "requests": r["completed"], "ok": r["completed"],
                "throughput": r["completed"] / r["seconds"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                "mean_ms": r["mean_ms"], "non_2xx": r["errors"], "socket_errors": {},
                "load_generator": "Python threads in process"}

    def restart_after_timeout(self, corpus: Corpus) -> None:
        peaks = dict(self.monitor.peaks) if self.monitor else {}
        load = dict(self.facts)
        self.stop()
        self.start(corpus, Path("."))
        self.facts.update({k: v for k, v in load.items()})
        for k, v in peaks.items():
            self.monitor.peaks[k] = max(v, self.monitor.peaks.get(k, 0))


SYSTEM_CLASSES = {"ours": Ours, "oxigraph": OxigraphServer, "rdflib": RdflibEndpoint, "inprocess": InProcess}


# ------------------------------------------------------------------------------------------------
# Planning the measurements
# ------------------------------------------------------------------------------------------------

def first_answer_s(system, probe_s: float, clients: int) -> float:
    """When the first of `clients` concurrent requests is expected to complete."""
    if system.sharing == "fifo":
        return probe_s
    return probe_s * max(1.0, clients / system.parallelism)


def plan_seconds(system, probe_s: float, clients: int, args) -> int | None:
    """wrk's duration for one query at one client count: --duration, or longer for a slow query.

    At 1 client: long enough for --min-completions answers. With more clients: until the first answers
    come back and one more (requests queue in ours; they share the cores in the Oxigraph server, in
    process and, in effect, in rdflib, where the first of c requests ends after about c/p times the
    query's time). A measurement may grow to --query-limit at 1 client, --target-max-duration at 8 (the
    targets' count) and --max-duration at other counts; it is skipped (None) when not one answer could
    come back by then.
    """
    p = system.parallelism
    if clients == 1:
        need = args.min_completions * probe_s * 1.1
    elif system.sharing == "fifo":
        need = probe_s + probe_s / min(p, clients)
    else:
        need = 1.1 * probe_s * max(1.0, clients / p)
    cap = level_cap(clients, args)
    if first_answer_s(system, probe_s, clients) > cap:
        return None   # not one answer would come back within the cap: skipped, and said so
    return int(math.ceil(min(max(args.duration, need), cap)))


def level_cap(clients: int, args) -> float:
    cap = args.query_limit if clients == 1 else args.target_max_duration if clients == TARGET_CLIENTS \
        else args.max_duration
    return max(args.duration, cap)


def estimate_minutes(args, corpora_labels: list[str], systems_for: dict, queries: list[Query]) -> float:
    """A rough plan of the run's length, printed at the start.

    Its model, from runs on this machine (2 cores): generating 16 s per million triples; loading 12 (ours),
    8 (Oxigraph), 45 (rdflib), 4 (in process) s per million; a heavy query 0.3 s per million triples on the
    Oxigraph engine (a third more through ours), about 2 s per million in rdflib; a small query 2 ms.
    """
    total = 0.0
    for label in corpora_labels:
        m = parse_size(label) / 1e6
        cached = (Path(args.workdir) / f"corpus-{label}-seed{args.seed}" / "bench-corpus.json").is_file()
        total += 0 if cached else 16 * m + 2
        for name in systems_for[label]:
            load = {"ours": 12 * m + 4, "oxigraph": 8 * m + 1, "rdflib": 45 * m + 2, "inprocess": 4 * m + 1}[name]
            total += load + (load if name in ("ours", "oxigraph") else 0) * 0.1
            qs = [q for q in queries if name == "ours" or q.form != "page"]
            heavy = {"ours": 0.4, "rdflib": 10.0}.get(name, 0.3) * m
            fake = type("S", (), {"parallelism": 1 if name == "rdflib" else 2,
                                  "sharing": "fifo" if name == "ours" else "ps"})
            for i, q in enumerate(qs):
                # heavy queries spread over two orders of magnitude: a fifth take 4x the typical time
                lat = (heavy * (4 if i % 5 == 0 else 0.4)) if q.cls == "heavy" else 0.002
                if lat > args.query_limit:      # a time-out, and a restart (a reload for rdflib)
                    total += args.query_limit + (load if name == "rdflib" else 2)
                    continue
                total += (2 * lat if lat < 2 else lat) + 0.1
                if (not args.smoke_measure) or q.name in args.smoke_measure:
                    for c in args.clients:
                        planned = plan_seconds(fake, lat, c, args)
                        if planned:
                            leftover = c * lat if c > 1 else 0   # abandoned requests: drained, or a restart
                            total += planned + 0.5 + (min(leftover, 3) + (2 + 0.2 * m if leftover > 3 else 0)
                                                      if name in ("ours", "oxigraph") else min(leftover, 300) * 0.5)
    return total / 60


# ------------------------------------------------------------------------------------------------
# Validation target
# ------------------------------------------------------------------------------------------------

VALIDATE_CODE = r"""
import json, sys, time
from pathlib import Path
import pyoxigraph
from statecraft.generate import article_quads
from statecraft.incremental import validate_article
store_path, corpus, seed, articles = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
graph = article_quads(articles, seed)
how = f"statecraft.generate.article_quads({articles}, seed={seed}): article N+1 of this corpus"
make_s = time.perf_counter() - t
from statecraft.generations import Generations
if Generations.is_layout(Path(store_path)):   # a store `statecraft serve --store` loaded: read its current generation
    store_path = str(Generations(Path(store_path)).current())
store = pyoxigraph.Store.read_only(store_path)
times = []
outcome = None
for _ in range(2):
    t = time.perf_counter()
    outcome = validate_article(graph, store)
    times.append(time.perf_counter() - t)
conforms = getattr(outcome, "conforms", None)
print(json.dumps({"available": True, "article_triples": len(graph), "cold_s": times[0], "warm_s": times[1],
                  "make_article_s": make_s, "conforms": conforms, "how": how}))
"""


def validation_probe(corpus: Corpus, store: Path | None, logs: Path) -> dict:
    if store is None or not store.is_dir():
        return {"available": False, "why": "needs the on-disk store of 'ours' (run with --systems including ours)"}
    try:
        out = subprocess.run([sys.executable, "-c", VALIDATE_CODE, str(store), str(corpus.path), str(corpus.seed),
                              str(corpus.articles)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {"available": True, "error": "did not finish in 900 s"}
    (logs / "validate.log").write_text(out.stdout + "\n" + out.stderr)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"available": True, "error": (out.stderr or out.stdout)[-800:]}


# ------------------------------------------------------------------------------------------------
# Running one size
# ------------------------------------------------------------------------------------------------

def is_peer_limitation(system: str, probe: dict) -> str | None:
    """Failures of the Python peer that are its own known limits, not a broken benchmark."""
    if system != "rdflib":
        return None
    if probe.get("timeout"):
        return "rdflib did not answer within the time limit"
    if re.search(r"NotBoundError|Variable \S+ is not bound", probe.get("error") or ""):
        return "rdflib 7.6 raises NotBoundError for an aggregate over an unbound value (SPARQL says: skip it)"
    return None


def run_system(name: str, corpus: Corpus, queries: list[Query], args, logs: Path, stores: Path) -> dict:
    system = SYSTEM_CLASSES[name](args, logs)
    out = {"name": name, "label": LABELS[name], "status": "ok", "queries": {}, "notes": system.notes}
    t_start = time.perf_counter()
    try:
        say(f"[{corpus.label}] {name}: loading …")
        system.start(corpus, stores)
        out["facts"] = system.facts
        f = system.facts
        say(f"[{corpus.label}] {name}: loaded in {fmt_s(f.get('load_s'))}"
            + (f", restart ready in {fmt_s(f.get('restart_s'))}" if f.get("restart_s") is not None else ""))
        for q in queries:
            if not system.supports(q):
                continue
            entry = out["queries"][q.name] = {}
            first = system.probe(q, args.query_limit)
            entry["probe"] = first
            if first.get("ok") and first["seconds"] < 2.0:
                second = system.probe(q, args.query_limit)
                if second.get("ok"):
                    entry["probe"] = {**second, "first_s": first["seconds"]}
            p = entry["probe"]
            if not p.get("ok"):
                limitation = is_peer_limitation(name, p)
                entry["failure"] = p.get("error")
                entry["peer_limitation"] = limitation
                say(f"[{corpus.label}] {name}: {q.name}: FAILED: {p.get('error', '')[:200]}"
                    + (f" ({limitation})" if limitation else ""))
                if p.get("timeout") or (system.proc and not system.proc.alive()):
                    say(f"[{corpus.label}] {name}: restarting it (it may still be busy with that query)")
                    system.restart_after_timeout(corpus)
                continue
            measure = (not args.smoke_measure) or q.name in args.smoke_measure
            levels = {}
            for c in (args.clients if measure else []):
                seconds = plan_seconds(system, p["seconds"], c, args)
                if seconds is None:
                    levels[str(c)] = {"clients": c, "skipped": True, "throughput": None, "ok": 0, "requests": 0,
                                      "bound": system.parallelism / p["seconds"],
                                      "p50_ms": None, "p99_ms": None, "non_2xx": 0, "socket_errors": {},
                                      "seconds": 0, "flags": [
                                          f"skipped: the first of {c} concurrent answers would take about "
                                          f"{first_answer_s(system, p['seconds'], c):.0f} s, over the "
                                          f"{level_cap(c, args):.0f} s cap at {c} clients"]}
                    say(f"[{corpus.label}] {name}: {q.name:42s} c={c:<2d} skipped (no answer expected within "
                        f"{level_cap(c, args):.0f} s)")
                    continue
                r = system.measure(q, c, seconds, args.query_limit, p["seconds"])
                while r["ok"] == 0 and seconds < level_cap(c, args):   # no answer yet: a longer window
                    seconds = int(min(level_cap(c, args), seconds * 3))
                    say(f"[{corpus.label}] {name}: {q.name}: no answer at {c} clients; again for {seconds} s")
                    r = system.measure(q, c, seconds, args.query_limit, p["seconds"])
                if r["ok"] == 0:
                    r["bound"] = system.parallelism / p["seconds"]
                levels[str(c)] = r
                flags = []
                if r["non_2xx"]:
                    flags.append(f"{r['non_2xx']} non-2xx")
                if r["socket_errors"]:
                    flags.append(f"socket errors {r['socket_errors']}")
                if r["ok"] == 0:
                    flags.append(f"no request completed in {r['seconds']:.0f} s")
                if flags:
                    r["flags"] = flags
                say(f"[{corpus.label}] {name}: {q.name:42s} c={c:<2d} {fmt_rate(r['throughput']):>9s} q/s  "
                    f"p50 {fmt_ms(r['p50_ms']):>8s}  p99 {fmt_ms(r['p99_ms']):>8s}  ({seconds}s)"
                    + (f"  !! {'; '.join(flags)}" if flags else ""))
            entry["levels"] = levels
        out["memory"] = system.memory()
    except Exception as error:  # noqa: BLE001 - one failing system must not end the run
        out["status"] = f"failed: {type(error).__name__}: {error}"
        say(f"[{corpus.label}] {name}: FAILED: {error}")
    finally:
        out.setdefault("memory", system.memory())
        out.setdefault("facts", system.facts)
        system.stop()
    out["store"] = str(getattr(system, "store", "")) or None
    out["elapsed_s"] = time.perf_counter() - t_start
    return out


def check_rows(queries: list[Query], systems: dict) -> dict:
    table, mismatches = {}, []
    for q in queries:
        if q.form == "page":
            continue
        rows = {}
        for name, res in systems.items():
            p = res["queries"].get(q.name, {}).get("probe")
            if p and p.get("ok"):
                rows[name] = p["rows"]
        table[q.name] = rows
        if len(set(rows.values())) > 1:
            same_engine = {rows[n] for n in ENGINE_SYSTEMS if n in rows}
            entry = {"query": q.name, "rows": rows}
            if len(same_engine) <= 1 and "rdflib" in rows:
                entry["only_rdflib"] = True
                if rows["rdflib"] == 1 and same_engine == {0} and re.search(r"(?i)\bGROUP\s+BY\b", q.text):
                    entry["why"] = ("rdflib returns one row for a GROUP BY over no solutions; "
                                    "SPARQL 1.1 (§11.2) gives none")
            mismatches.append(entry)
    return {"rows": table, "mismatches": mismatches}


# ------------------------------------------------------------------------------------------------
# Figures: ratios and targets
# ------------------------------------------------------------------------------------------------

def level(res: dict, q: str, c: int) -> dict | None:
    return res.get("queries", {}).get(q, {}).get("levels", {}).get(str(c))


def tput(res: dict, q: str, c: int) -> float | None:
    lv = level(res, q, c)
    if not lv or lv.get("throughput") is None or lv.get("ok", 0) == 0:
        return None
    return lv["throughput"]


def tput_or_bound(res: dict, q: str, c: int) -> tuple[float | None, bool]:
    """A peer's throughput, or where it gave no answer in the window, its upper bound: p / (its time at
    1 client), p the queries it can run at once. The second value says it is a bound."""
    measured = tput(res, q, c)
    if measured is not None:
        return measured, False
    lv = level(res, q, c)
    if lv and lv.get("bound"):
        return lv["bound"], True
    return None, False


def peer_query(q: Query, peer: str) -> str:
    """The query whose figures stand for q on a peer: q itself, or its nearest equivalent for a page."""
    return q.peer_equivalent if (q.form == "page" and peer != "ours" and q.peer_equivalent) else q.name


def mix_rate(values: list[float]) -> float | None:
    """Throughput over a mix: queries per second when each query of the mix is run in turn (harmonic mean)."""
    values = [v for v in values if v]
    return len(values) / sum(1 / v for v in values) if values else None


def evaluate_targets(size: str, corpus: Corpus, queries: list[Query], systems: dict, validation: dict,
                     args) -> list[dict]:
    targets = []
    ours = systems.get("ours")
    sparql = [q for q in queries if q.form != "page"]
    c = TARGET_CLIENTS

    def add(name, threshold, measured, passed, detail=""):
        targets.append({"target": name, "threshold": threshold, "measured": measured, "pass": passed,
                        "detail": detail})

    def common(peer, qs, clients):
        """(query, ours, peer) for the queries both measured; the peer's figure may be an upper bound."""
        pairs, bounded = [], []
        for q in qs:
            a = tput(ours, q.name, clients)
            b, is_bound = tput_or_bound(systems[peer], q.name, clients)
            if a is not None and b is not None:
                pairs.append((q, a, b))
                if is_bound:
                    bounded.append(q.name)
        return pairs, bounded

    def bound_note(bounded, peer_label):
        if not bounded:
            return ""
        return (f"; {len(bounded)} with {peer_label}'s upper bound (no answer in the window: its parallelism "
                f"÷ its 1-client time), where the ratio is at least the one shown ({', '.join(bounded)})")

    if ours and ours.get("status") == "ok" and args.clients and c in args.clients:
        rd = systems.get("rdflib")
        if rd and rd.get("status") == "ok":
            pairs, bounded = common("rdflib", sparql, c)
            failed = [q.name for q in sparql if rd["queries"].get(q.name, {}).get("failure")]
            if pairs:
                ratio = mix_rate([a for _, a, _ in pairs]) / mix_rate([b for _, _, b in pairs])
                add(f"throughput over the mix ≥ 10× rdflib-endpoint's ({c} clients)", "≥ 10×", ratio, ratio >= 10,
                    f"over {len(pairs)} queries; left out: {len(failed)} that rdflib could not answer "
                    f"({', '.join(failed) or 'none'})" + bound_note(bounded, "rdflib"))
            worst = None
            for cl in args.clients:
                for q, a, b in common("rdflib", sparql, cl)[0]:
                    if worst is None or a / b < worst[0]:
                        worst = (a / b, q.name, cl)
            if worst:
                add("never below rdflib-endpoint on any query (any client count)", "≥ 1× on every query", worst[0],
                    worst[0] >= 1, f"lowest: {worst[1]} at {worst[2]} client(s)")
        else:
            add("throughput ≥ 10× rdflib-endpoint's", "≥ 10×", None, None,
                "rdflib-endpoint not run at this size" if not rd else f"rdflib-endpoint {rd.get('status')}")
        ox = systems.get("oxigraph")
        if ox and ox.get("status") == "ok":
            for cls, threshold in (("small", 0.5), ("heavy", 0.8)):
                pairs, bounded = common("oxigraph", [q for q in sparql if q.cls == cls], c)
                if not pairs:
                    add(f"≥ {threshold}× the Oxigraph server's throughput on {cls} queries ({c} clients)",
                        f"≥ {threshold}×", None, None, "no query of this class measured on both")
                    continue
                ratio = mix_rate([a for _, a, _ in pairs]) / mix_rate([b for _, _, b in pairs])
                worst = min(pairs, key=lambda t: t[1] / t[2])
                below = [q.name for q, a, b in pairs if a / b < threshold]
                add(f"≥ {threshold}× the Oxigraph server's throughput on {cls} queries ({c} clients), over the class",
                    f"≥ {threshold}×", ratio, ratio >= threshold,
                    f"{len(pairs)} queries; lowest single query {worst[0].name} {worst[1] / worst[2]:.2f}×; "
                    f"{len(below)} queries below {threshold}× on their own"
                    + (f" ({', '.join(below)})" if below else "") + bound_note(bounded, "Oxigraph"))
        worst = None
        for q in queries:
            lv = level(ours, q.name, c)
            if lv and lv.get("p50_ms") and lv.get("p99_ms") and lv.get("ok", 0) >= 20:
                r = lv["p99_ms"] / lv["p50_ms"]
                if worst is None or r > worst[0]:
                    worst = (r, q.name)
        over = [q.name for q in queries if (lv := level(ours, q.name, c)) and lv.get("p50_ms") and lv.get("p99_ms")
                and lv.get("ok", 0) >= 20 and lv["p99_ms"] / lv["p50_ms"] > 3]
        if worst:
            add(f"p99 ≤ 3× p50 at {c} clients (ours, every query with ≥ 20 completions)", "≤ 3×", worst[0],
                worst[0] <= 3, f"highest: {worst[1]}; over 3×: {', '.join(over) or 'none'}")
    if ours and ours.get("status") == "ok":
        f = ours.get("facts", {})
        r = f.get("restart_s")
        ok = r is not None and r < 2 and not f.get("restart_reloaded")
        is_10m = corpus.target >= 10_000_000
        add("served from the on-disk store; restart ready < 2 s without reloading"
            + ("" if is_10m else f" (the target is for 10M; shown at {size} for reference)"),
            "< 2 s, no reload", r, ok if is_10m else (ok if args.evaluate_all_restart else None),
            f"store {fmt_bytes(f.get('store_bytes'))} on disk; files changed by the restart: "
            f"{len(f.get('restart_changed_files', []))}")
    if validation.get("available") and "cold_s" in validation:
        # The target is the validator as a running service uses it: shapes and ontology already parsed.
        # The first call in a fresh process also parses them; it is shown beside it.
        add("validating one newly added article < 1 s (shapes loaded)", "< 1 s", validation["warm_s"],
            validation["warm_s"] < 1,
            f"{validation['article_triples']} triples; {validation['warm_s']:.2f} s with the shapes loaded; "
            f"the first call of a fresh process, which also parses shapes and ontology, {validation['cold_s']:.2f} s; "
            f"conforms: {validation.get('conforms')}")
    else:
        add("validating one newly added article < 1 s", "< 1 s", None, None,
            "not measured: " + (validation.get("why") or validation.get("error") or "?"))
    return targets


# ------------------------------------------------------------------------------------------------
# Formatting
# ------------------------------------------------------------------------------------------------

def fmt_s(v) -> str:
    return "—" if v is None else (f"{v:.2f} s" if v < 10 else f"{v:.0f} s")


def fmt_ms(v) -> str:
    if v is None:
        return "—"
    return f"{v:.2f} ms" if v < 10 else (f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms")


def fmt_rate(v) -> str:
    if v is None:
        return "—"
    return f"{v:.2f}" if v < 10 else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


def fmt_ratio(v) -> str:
    if v is None:
        return "—"
    if v == math.inf:
        return "∞"
    if v < 0.1:
        return f"{v:.2g}×"
    return f"{v:.2f}×" if v < 10 else f"{v:.0f}×"


def fmt_bytes(v) -> str:
    if not v:
        return "—"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if v >= size:
            return f"{v / size:.1f} {unit}"
    return f"{v} B"


def ratio(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        return math.inf
    return a / b


# ------------------------------------------------------------------------------------------------
# Environment
# ------------------------------------------------------------------------------------------------

def versions() -> dict:
    from importlib import metadata
    out = {"python": platform.python_version()}
    for dist in ("pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "fastapi", "uvicorn", "starlette", "psutil"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    for cmd, key in (([str(BIN / "oxigraph"), "--version"], "oxigraph-cli"), (["wrk", "-v"], "wrk")):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            out[key] = (r.stdout + r.stderr).strip().splitlines()[0].split(" [")[0].removeprefix("wrk ")
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[key] = None
    try:
        out["statecraft"] = metadata.version("statecraft")
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "statecraft"], capture_output=True,
                               text=True).stdout.strip()
        out["statecraft-commit"] = rev.stdout.strip() + (" (statecraft/ has uncommitted changes)" if dirty else "")
    except (OSError, metadata.PackageNotFoundError):
        pass
    return out


def machine() -> dict:
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_bytes": mem, "kernel": platform.release(),
            "os": platform.platform()}


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------

def write_report(results: dict, queries: list[Query], path: Path, plot_path: Path | None) -> None:
    meta = results["meta"]
    m = meta["machine"]
    v = meta["versions"]
    L = []
    w = L.append
    w("# Benchmarks\n")
    w("Statecraft's SPARQL endpoint against the Oxigraph server (the same engine without Python: the ceiling), "
      "rdflib-endpoint (the Python peer) and pyoxigraph in process (no HTTP: the floor), on the same generated "
      "data and the same query mix, in one run of `benchmarks/bench.py`. How to run it and what each figure "
      "means: [benchmarks/README.md](../benchmarks/README.md). Where the time goes, and what would close the "
      "gaps the targets show: [performance.md](performance.md). Reads, runaway queries and curated writes "
      "together: [benchmarks-load.md](benchmarks-load.md) (`make load-test`).\n")
    w(f"- **Command:** `{meta['command']}`")
    w(f"- **Date:** {meta['date']} (run took {meta['elapsed_s'] / 60:.1f} min)")
    w(f"- **Machine:** {m['cpu']}, {m['cores']} cores, {fmt_bytes(m['memory_bytes'])} RAM, Linux {m['kernel']}")
    w("- **Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items() if val))
    a = meta["args"]
    w(f"- **Settings:** clients {', '.join(map(str, a['clients']))}; ≥ {a['duration']} s per measurement "
      f"(longer for slow queries: up to {a['query_limit']:g} s at 1 client, "
      f"{a.get('target_max_duration', a['query_limit']):g} s at {TARGET_CLIENTS}, {a['max_duration']} s at other "
      f"counts); per-query time limit {a['query_limit']:g} s; seed {a['seed']}; ours with {a['ours_workers']} "
      f"query workers, queue time-out {10 * a['query_limit']:g} s, result cap {a['max_result_mb']} MB; "
      f"wrk with {a['wrk_threads']} thread(s), on loopback")
    w("")
    if meta.get("notes"):
        for note in meta["notes"]:
            w(f"> {note}\n")
    if plot_path:
        try:
            rel = os.path.relpath(plot_path, path.parent)
        except ValueError:
            rel = str(plot_path)
        w(f"![p50 latency at 1 client by corpus size, per system]({rel})\n")

    for size, sr in results["sizes"].items():
        systems = sr["systems"]
        names = [n for n in ALL_SYSTEMS if n in systems]
        peers = [n for n in names if n != "ours"]
        w(f"## {size}: {sr['corpus']['triples']:,} triples\n")
        w(f"Corpus: {sr['corpus']['generator']}, seed {sr['corpus']['seed']}"
          + (f", {sr['corpus']['articles']} articles" if sr['corpus'].get('articles') else "")
          + (f" (generated in {fmt_s(sr['corpus']['generate_s'])})" if sr['corpus'].get('generate_s') else "")
          + ".\n")
        for skipped, why in sr.get("skipped", {}).items():
            w(f"> {LABELS[skipped]} is not run at this size: {why}\n")
        # targets
        w("### Targets\n")
        w("| target | threshold | measured | result | detail |")
        w("|---|---|---|---|---|")
        if "targets" not in sr:
            w("> This size was not finished (the run was interrupted or failed): the tables below show what was "
              "measured.\n")
        for t in sr.get("targets", []):
            meas = t["measured"]
            shown = "—" if meas is None else (fmt_s(meas) if "s" in t["threshold"] and "×" not in t["threshold"]
                                              else fmt_ratio(meas))
            res = {True: "**pass**", False: "**FAIL**", None: "n/a"}[t["pass"]]
            w(f"| {t['target']} | {t['threshold']} | {shown} | {res} | {t['detail']} |")
        w("")
        # systems
        w("### Load, restart, memory\n")
        w("| system | load | restart to ready | peak RSS while loading | peak RSS while serving | store on disk | status |")
        w("|---|---|---|---|---|---|---|")
        for n in names:
            s = systems[n]
            f = s.get("facts", {})
            mem = s.get("memory", {})
            load = fmt_s(f.get("load_s"))
            if n == "oxigraph" and f.get("load_command_s") is not None:
                load += f" (load {fmt_s(f['load_command_s'])} + optimize {fmt_s(f['optimize_s'])} + start {fmt_s(f.get('first_start_s'))})"
            restart = fmt_s(f.get("restart_s")) if f.get("restart_s") is not None else (
                "n/a (in memory: reloads)" if n in ("rdflib", "inprocess") else "—")
            if n == "ours" and f.get("restart_s") is not None:
                restart += " (no reload)" if not f.get("restart_reloaded") else " (**store files changed**)"
            w(f"| {LABELS[n]} | {load} | {restart} | {fmt_bytes(mem.get('load'))} | {fmt_bytes(mem.get('serve'))} | "
              f"{fmt_bytes(f.get('store_bytes'))} | {s['status']} |")
        w("")
        # latency
        w("### Latency at 1 client (p50 / p99)\n")
        head = "| query | class | " + " | ".join(LABELS[n] for n in names) + " | " + \
               " | ".join(f"p50 ours / {n}" for n in peers) + " |"
        w(head)
        w("|" + "---|" * (2 + len(names) + len(peers)))
        for q in queries:
            cells = []
            for n in names:
                if n != "ours" and q.form == "page" and not q.peer_equivalent:
                    cells.append("n/a")
                    continue
                lv = level(systems[n], peer_query(q, n), 1)
                fail = systems[n]["queries"].get(peer_query(q, n), {}).get("failure")
                if fail:
                    cells.append("fails" if "timeout" not in fail and "within" not in fail else "timeout")
                elif lv:
                    cells.append(f"{fmt_ms(lv['p50_ms'])} / {fmt_ms(lv['p99_ms'])}"
                                 + (" ≈" if n != "ours" and q.form == "page" else ""))
                else:
                    cells.append("—")
            rs = []
            lo = level(systems["ours"], q.name, 1) if "ours" in systems else None
            for n in peers:
                lp = level(systems[n], peer_query(q, n), 1)
                rs.append(fmt_ratio(ratio(lo and lo["p50_ms"], lp and lp["p50_ms"])))
            w(f"| {q.name} | {q.cls} | " + " | ".join(cells) + " | " + " | ".join(rs) + " |")
        w("")
        # throughput per client count
        for c in meta["args"]["clients"]:
            w(f"### Throughput at {c} client{'s' if c > 1 else ''} (queries per second)\n")
            w("| query | class | " + " | ".join(LABELS[n] for n in names) + " | " +
              " | ".join(f"ours / {n}" for n in peers) + " |")
            w("|" + "---|" * (2 + len(names) + len(peers)))
            for q in queries:
                cells = []
                for n in names:
                    if n != "ours" and q.form == "page" and not q.peer_equivalent:
                        cells.append("n/a")
                        continue
                    qn = peer_query(q, n)
                    fail = systems[n]["queries"].get(qn, {}).get("failure")
                    lv = level(systems[n], qn, c)
                    if fail:
                        cells.append("fails" if "within" not in fail else "timeout")
                    elif lv:
                        cell = fmt_rate(lv["throughput"]) if lv.get("ok") else (
                            ("skipped" if lv.get("skipped") else f"0 in {lv['seconds']:.0f} s")
                            + (f", ≤ {fmt_rate(lv['bound'])}" if lv.get("bound") else ""))
                        if lv.get("non_2xx"):
                            cell += f" ({lv['non_2xx']} non-2xx)"
                        if lv.get("socket_errors"):
                            cell += " (socket errors)"
                        if n != "ours" and q.form == "page":
                            cell += " ≈"
                        cells.append(cell)
                    else:
                        cells.append("—")
                rs = []
                for n in peers:
                    value, is_bound = tput_or_bound(systems[n], peer_query(q, n), c)
                    r = ratio(tput(systems["ours"], q.name, c) if "ours" in systems else None, value)
                    rs.append(("≥ " if is_bound and r is not None else "") + fmt_ratio(r))
                w(f"| {q.name} | {q.cls} | " + " | ".join(cells) + " | " + " | ".join(rs) + " |")
            # mix rows
            for cls in ("small", "heavy", None):
                sparql = [q for q in queries if q.form != "page" and (cls is None or q.cls == cls)]
                answered = [q for q in sparql if all(tput(systems[n], q.name, c) for n in names)]
                mixes = {n: mix_rate([tput(systems[n], q.name, c) for q in answered]) for n in names}
                if not answered:
                    continue
                label = f"**mix: {cls or 'all'} ({len(answered)} SPARQL queries all systems answered)**"
                w(f"| {label} | | " + " | ".join(fmt_rate(mixes[n]) for n in names) + " | " +
                  " | ".join(fmt_ratio(ratio(mixes.get("ours"), mixes[n])) for n in peers) + " |")
            w("")
        # row counts
        rc = sr.get("row_check") or check_rows(queries, systems)
        w("### Answers: rows per query and system\n")
        if rc["mismatches"]:
            w("**Row counts disagree** on: " + "; ".join(
                f"{m['query']} {m['rows']}" + (f" ({m['why']})" if m.get("why") else
                                              " (rdflib alone)" if m.get("only_rdflib") else " (**among the Oxigraph-based systems**)")
                for m in rc["mismatches"]) + ".\n")
        else:
            w("Every system that answered a query returned the same number of rows (DESCRIBE: triples).\n")
        w("| query | rows | answered by | failed |")
        w("|---|---|---|---|")
        for q in queries:
            if q.form == "page":
                st = systems.get("ours", {}).get("queries", {}).get(q.name, {}).get("probe", {})
                w(f"| {q.name} | page ({fmt_bytes(st.get('bytes'))} of HTML) | "
                  f"{'ours' if st.get('ok') else '—'} | {'' if st.get('ok') else 'ours'} |")
                continue
            rows = rc["rows"].get(q.name, {})
            failed = []
            for n in names:
                e = systems[n]["queries"].get(q.name, {})
                if e.get("failure"):
                    failed.append(f"{n}: {e.get('peer_limitation') or e['failure'][:120]}")
            w(f"| {q.name} | {', '.join(sorted({str(r) for r in rows.values()})) or '—'} | "
              f"{', '.join(rows) or '—'} | {'; '.join(failed)} |")
        w("")
        # validation
        val = sr.get("validation", {})
        if val:
            w("### Validating a new article\n")
            if val.get("available") and "cold_s" in val:
                w(f"{val['how']}: {val['article_triples']} triples, validated against the shapes with "
                  f"`statecraft.incremental.validate_article` over the on-disk store in {val['cold_s']:.2f} s "
                  f"(a second call: {val['warm_s']:.2f} s); conforms: {val.get('conforms')}.\n")
            else:
                w(f"Not measured: {val.get('why') or val.get('error')}\n")
        # flags
        flags = []
        for n in names:
            for qn, e in systems[n]["queries"].items():
                for c, lv in e.get("levels", {}).items():
                    for fl in lv.get("flags", []):
                        flags.append(f"{LABELS[n]}, {qn}, {c} clients: {fl}")
            for note in systems[n].get("notes", []):
                flags.append(f"{LABELS[n]}: {note}")
            restarts = systems[n].get("facts", {}).get("restarts")
            if restarts:
                flags.append(f"{LABELS[n]}: restarted {restarts} time(s) during the run, after a query it could "
                             "not finish or instead of waiting for queries abandoned by wrk")
        if flags:
            w("### Flags\n")
            for fl in flags:
                w(f"- {fl}")
            w("")
    w("## The query mix\n")
    w("| query | class | form | what it exercises | file |")
    w("|---|---|---|---|---|")
    for q in queries:
        w(f"| {q.name} | {q.cls} | {q.form if q.form != 'graph' else 'DESCRIBE/CONSTRUCT'} | "
          f"{q.exercises}{' (peers: ' + q.peer_equivalent + ', the nearest equivalent, marked ≈)' if q.peer_equivalent else ''} | "
          f"[{q.source}](../{q.source}) |")
    w("")
    w("Ratios are ours over the peer: for throughput above 1× is better for ours, for latency below 1×. "
      "A mix's throughput is the harmonic mean of its queries' (queries per second when each is run in turn). "
      "Raw figures: `" + meta["results_file"] + "`.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


def write_plot(results: dict, queries: list[Query], path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("matplotlib is not installed: no plot")
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=False)
    styles = {"ours": ("o-", "#d62728"), "oxigraph": ("s-", "#1f77b4"), "rdflib": ("^-", "#2ca02c"),
              "inprocess": ("d--", "#7f7f7f")}
    def answered(s, q):
        lv = level(s, q.name, 1)
        return bool(lv and lv.get("p50_ms"))

    for ax, cls in zip(axes, ("small", "heavy")):
        qs = [q for q in queries if q.form != "page" and q.cls == cls]
        # the same queries for every point: those every system answered at every size it ran at
        common = [q for q in qs if all(answered(s, q) for sr in results["sizes"].values()
                                       for s in sr["systems"].values())]
        title = f"{cls} queries ({len(common)} answered by every system at every size)"
        if common:
            qs = common
        else:
            title = f"{cls} queries (each system over the ones it answered)"
        for name in ALL_SYSTEMS:
            xs, ys = [], []
            for size, sr in results["sizes"].items():
                s = sr["systems"].get(name)
                if not s:
                    continue
                vals = [level(s, q.name, 1)["p50_ms"] for q in qs
                        if level(s, q.name, 1) and level(s, q.name, 1).get("p50_ms")]
                if vals:
                    xs.append(sr["corpus"]["triples"])
                    ys.append(math.exp(sum(math.log(v) for v in vals) / len(vals)))
            if xs:
                st, color = styles[name]
                ax.plot(xs, ys, st, color=color, label=LABELS[name])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("triples")
        ax.set_ylabel("p50 latency at 1 client, ms (geometric mean)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Latency by corpus size, per system")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100k,1M,10M", help="corpus sizes, e.g. 100k,1M,10M (default)")
    p.add_argument("--systems", default=",".join(ALL_SYSTEMS), help="ours,oxigraph,rdflib,inprocess (default all)")
    p.add_argument("--duration", type=int, default=2, help="seconds per measurement, at least (default 2)")
    p.add_argument("--max-duration", type=int, default=8,
                   help="at most this many seconds per measurement, except at 1 and 8 clients (default 8)")
    p.add_argument("--target-max-duration", type=int, default=30,
                   help="at most this many seconds per measurement at 8 clients (default 30)")
    p.add_argument("--query-limit", type=float, default=30,
                   help="seconds one query may take: the probe's time-out, ours' --query-timeout, the longest "
                        "measurement at 1 client (default 30)")
    p.add_argument("--min-completions", type=int, default=2,
                   help="answers a slow query's measurement at 1 client should reach (default 2)")
    p.add_argument("--clients", default="1,8,32", help="concurrent clients (default 1,8,32)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", default=str(ROOT / "benchmarks" / "work"),
                   help="generated corpora, stores and logs (default benchmarks/work; corpora are reused)")
    p.add_argument("--reuse-stores", action="store_true",
                   help="reuse stores loaded by an earlier run (skips the load, so no load time is measured)")
    p.add_argument("--rdflib-max-size", default="1M", help="largest size rdflib-endpoint runs at (default 1M)")
    p.add_argument("--queries", help="only queries whose name matches one of these comma-separated regexes")
    p.add_argument("--ours-workers", type=int, default=2, help="ours: --workers (default 2)")
    p.add_argument("--max-result-mb", type=int, default=1024,
                   help="ours: STATECRAFT_MAX_RESULT_BYTES for the run, in MB (default 1024; the endpoint's own default is 50)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: the machine has 2 cores)")
    p.add_argument("--start-limit", type=float, default=1800, help="seconds a server may take to load and start")
    p.add_argument("--report", help="Markdown report (default docs/benchmarks.md; --smoke: a temporary file)")
    p.add_argument("--results", help="JSON results file (default benchmarks/results/<sizes>-<date>.json)")
    p.add_argument("--plot", help="PNG plot (default docs/benchmarks/latency-by-size.png)")
    p.add_argument("--evaluate-all-restart", action="store_true",
                   help="pass/fail the restart target at every size, not only at 10M")
    p.add_argument("--render", metavar="RESULTS_JSON[,RESULTS_JSON…]",
                   help="only write the report and the plot again from earlier runs' results files; several "
                        "files (runs of different sizes) make one report, each size with its own run's command")
    p.add_argument("--smoke", action="store_true",
                   help="CI smoke test: ~10k triples, 1 s runs, all four systems; fails if a system does not "
                        "answer or the row counts disagree (never on a missed performance target)")
    args = p.parse_args(argv)
    args.smoke_measure = None
    if args.smoke:
        args.sizes = "10k"
        args.duration = 1
        args.max_duration = 1
        args.target_max_duration = 2
        args.query_limit = min(args.query_limit, 5)
        args.min_completions = 1
        if args.clients == "1,8,32":
            args.clients = "1,8"
        # every query is run once on every system and its rows compared; wrk runs on a few of them only
        args.smoke_measure = ["label-lookup", "join-2hop-deployments-from-state", "describe-record",
                              "cq07-south-korean-aid-to-ukraine", "id-page-record"]
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(args.systems) - set(ALL_SYSTEMS)
    if unknown:
        p.error(f"unknown systems: {', '.join(sorted(unknown))}")
    args.clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.render:
        return render(args)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    atexit.register(_stop_all)
    started = time.perf_counter()
    date = dt.datetime.now(dt.timezone.utc)
    missing = preflight(args)
    if missing:
        say("missing: " + "; ".join(missing))
        say("install them with: .venv/bin/pip install -e '.[bench]' (make does it), and apt-get install wrk")
        return 2
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="statecraft-bench-"))
    stamp = date.strftime("%Y%m%d-%H%M%S")
    if args.smoke:
        report = Path(args.report) if args.report else tmp / "benchmarks.md"
        results_file = Path(args.results) if args.results else tmp / f"smoke-{stamp}.json"
        plot = Path(args.plot) if args.plot else tmp / "latency-by-size.png"
    else:
        report = Path(args.report) if args.report else ROOT / "docs" / "benchmarks.md"
        results_file = Path(args.results) if args.results else \
            HERE / "results" / f"{'-'.join(args.sizes)}-{stamp}.json"
        plot = Path(args.plot) if args.plot else ROOT / "docs" / "benchmarks" / "latency-by-size.png"
    queries = load_queries(args.queries)
    rdflib_max = parse_size(args.rdflib_max_size)
    systems_for, skipped_for = {}, {}
    for label in args.sizes:
        systems_for[label] = [s for s in ALL_SYSTEMS if s in args.systems
                              and not (s == "rdflib" and parse_size(label) > rdflib_max)]
        skipped_for[label] = {"rdflib": f"above --rdflib-max-size {args.rdflib_max_size} (rdflib would need about "
                                        f"14 GB of memory and hours of loading at 10M)"} \
            if "rdflib" in args.systems and "rdflib" not in systems_for[label] else {}
    est = estimate_minutes(args, args.sizes, systems_for, queries)
    command = "python benchmarks/bench.py " + " ".join(shlex.quote(a) for a in argv)
    say(f"Statecraft benchmark: sizes {', '.join(args.sizes)}; systems {', '.join(args.systems)}; "
        f"{len(queries)} queries; clients {args.clients}")
    say(f"Estimated time: about {est:.0f} min (a rough plan: slow queries at large sizes stretch their "
        f"measurements up to {args.query_limit:.0f} s each)")
    results = {"meta": {"command": command, "date": date.strftime("%Y-%m-%d %H:%M UTC"), "versions": versions(),
                        "machine": machine(), "args": {k: v for k, v in vars(args).items()},
                        "estimate_min": est, "results_file": os.path.relpath(results_file, ROOT)
                        if str(results_file).startswith(str(ROOT)) else str(results_file), "notes": []},
               "queries": [{"name": q.name, "class": q.cls, "form": q.form, "source": q.source,
                            "exercises": q.exercises, "peer_equivalent": q.peer_equivalent} for q in queries],
               "sizes": {}}
    failures: list[str] = []
    warnings: list[str] = []
    try:
        for label in args.sizes:
            corpus = ensure_corpus(label, args.seed, workdir)
            for q in queries:
                q.resolve(corpus)
            logs = workdir / "logs" / f"{label}-{stamp}"
            logs.mkdir(parents=True, exist_ok=True)
            stores = workdir / "stores"
            stores.mkdir(parents=True, exist_ok=True)
            sr = {"corpus": {"label": label, "triples": corpus.triples, "generator": corpus.generator,
                             "seed": corpus.seed, "articles": corpus.articles, "generate_s": corpus.generate_s,
                             "record": corpus.record, "article_graph": corpus.article_graph},
                  "skipped": skipped_for[label], "systems": {}}
            results["sizes"][label] = sr
            for name in systems_for[label]:
                res = run_system(name, corpus, queries, args, logs, stores)
                sr["systems"][name] = res
                if res["status"] != "ok":
                    failures.append(f"{label} {name}: {res['status']}")
                for qn, e in res["queries"].items():
                    if e.get("failure"):
                        (warnings if e.get("peer_limitation") else failures).append(
                            f"{label} {name} {qn}: {e['failure'][:200]}"
                            + (f" ({e['peer_limitation']})" if e.get("peer_limitation") else ""))
                    for c, lv in e.get("levels", {}).items():
                        if lv.get("non_2xx") or lv.get("socket_errors"):
                            msg = f"{label} {name} {qn} at {c} clients: {'; '.join(lv.get('flags', []))}"
                            broken = lv.get("non_2xx") or set(lv.get("socket_errors", {})) - {"timeout"}
                            (failures if broken and name != "rdflib" else warnings).append(msg)
                        elif lv.get("skipped"):
                            warnings.append(f"{label} {name} {qn} at {c} clients: {lv['flags'][0]}")
                        elif lv.get("ok") == 0:
                            warnings.append(f"{label} {name} {qn} at {c} clients: no request completed "
                                            f"in {lv['seconds']:.0f} s")
                _save(results, results_file, started)
            sr["row_check"] = check_rows(queries, sr["systems"])
            for mm in sr["row_check"]["mismatches"]:
                msg = f"{label}: row counts disagree on {mm['query']}: {mm['rows']}" + \
                    (f" ({mm['why']})" if mm.get("why") else "")
                # the Oxigraph-based systems must agree; rdflib alone differing is its own answer, reported
                (warnings if mm.get("only_rdflib") else failures).append(msg)
                say(f"[{label}] WARNING: {msg}")
            ours_store = sr["systems"].get("ours", {}).get("store")
            say(f"[{label}] validating one newly added article …")
            sr["validation"] = validation_probe(corpus, Path(ours_store) if ours_store else None, logs)
            v = sr["validation"]
            say(f"[{label}] validation: " + (f"{v['cold_s']:.2f} s (second call {v['warm_s']:.2f} s)"
                                              if "cold_s" in v else f"NOT MEASURED: {v.get('why') or v.get('error')}"))
            if v.get("error"):   # the probe itself broke: that is a failure of the benchmark, not a figure
                failures.append(f"{label}: the validation probe failed: {str(v['error']).strip().splitlines()[-1]}")
            sr["targets"] = evaluate_targets(label, corpus, queries, sr["systems"], sr["validation"], args)
            print_targets(label, sr["targets"])
            _save(results, results_file, started)
    except KeyboardInterrupt:
        say("interrupted: stopping every server and writing what was measured")
        failures.append("interrupted")
    finally:
        _stop_all()
    results["meta"]["elapsed_s"] = time.perf_counter() - started
    results["meta"]["failures"] = failures
    results["meta"]["warnings"] = warnings
    _save(results, results_file, started)
    has_plot = write_plot(results, queries, plot)
    write_report(results, queries, report, plot if has_plot else None)
    say(f"\nresults: {results_file}\nreport:  {report}" + (f"\nplot:    {plot}" if has_plot else ""))
    say(f"took {results['meta']['elapsed_s'] / 60:.1f} min (estimated {est:.0f})")
    for wmsg in warnings:
        say(f"warning: {wmsg}")
    if failures:
        for fmsg in failures:
            say(f"FAILURE: {fmsg}")
        return 1
    say("no failure: every system started, the Oxigraph-based systems answered every query with the same "
        "row counts" + (f" ({len(warnings)} warnings above)" if warnings else ""))
    return 0


def render(args) -> int:
    runs = [json.loads(Path(name).read_text(encoding="utf-8")) for name in args.render.split(",")]
    results = runs[0]
    for run in runs[1:]:
        for label in run["sizes"]:
            results["meta"]["notes"].append(
                f"{label} comes from a separate run: `{run['meta']['command']}` ({run['meta']['date']}, "
                f"{run['meta']['elapsed_s'] / 60:.1f} min; clients {', '.join(map(str, run['meta']['args']['clients']))})")
        results["sizes"].update(run["sizes"])
    queries = [Query(q["name"], q["class"], q["form"], "", q["source"], q["exercises"], q.get("peer_equivalent"))
               for q in results["queries"]]
    for label, sr in results["sizes"].items():  # targets again, as this version of the script judges them
        corpus = SimpleNamespace(target=parse_size(label))
        run_args = SimpleNamespace(clients=results["meta"]["args"]["clients"], evaluate_all_restart=False)
        sr["targets"] = evaluate_targets(label, corpus, queries, sr["systems"], sr.get("validation", {}), run_args)
    report = Path(args.report) if args.report else ROOT / "docs" / "benchmarks.md"
    plot = Path(args.plot) if args.plot else ROOT / "docs" / "benchmarks" / "latency-by-size.png"
    has_plot = write_plot(results, queries, plot)
    write_report(results, queries, report, plot if has_plot else None)
    say(f"report: {report}" + (f"\nplot:   {plot}" if has_plot else ""))
    return 0


def preflight(args) -> list[str]:
    """What the chosen systems need and is not installed."""
    import importlib.util
    missing = []
    if shutil.which("wrk") is None and any(s != "inprocess" for s in args.systems):
        missing.append("wrk (Debian package 'wrk', the load generator)")
    for module, why in (("psutil", "memory and CPU of the servers"), ("pyoxigraph", "counting rows"),
                        ("statecraft", "the endpoint")):
        if importlib.util.find_spec(module) is None:
            missing.append(f"the Python package {module} ({why})")
    if "rdflib" in args.systems and importlib.util.find_spec("rdflib_endpoint") is None:
        missing.append("the Python package rdflib-endpoint")
    if "oxigraph" in args.systems and not (BIN / "oxigraph").exists() and shutil.which("oxigraph") is None:
        missing.append("the oxigraph command (PyPI package oxigraph)")
    return missing


def _save(results: dict, path: Path, started: float) -> None:
    results["meta"]["elapsed_s"] = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")


def print_targets(label: str, targets: list[dict]) -> None:
    say(f"\n[{label}] targets (ratios from this run; a missed target does not fail the run):")
    for t in targets:
        meas = t["measured"]
        shown = "—" if meas is None else (f"{meas:.2f} s" if "×" not in t["threshold"] else f"{meas:.2f}×")
        res = {True: "PASS", False: "FAIL", None: "n/a "}[t["pass"]]
        say(f"  {res}  {t['target']}  [{t['threshold']}]  measured {shown}  {t['detail']}")
    say("")


if __name__ == "__main__":
    sys.exit(main())
