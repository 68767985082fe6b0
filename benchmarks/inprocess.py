"""The in-process floor of the benchmark: pyoxigraph with no HTTP, driven by bench.py over a pipe.

    python benchmarks/inprocess.py CORPUS.nq

Loads the N-Quads file into an in-memory pyoxigraph.Store, prints one JSON line {"ready": …, "load_s": …},
then answers one JSON command per stdin line with one JSON line on stdout:

    {"op": "probe", "query": "…", "form": "select|ask|graph"}
        -> {"ok": true, "seconds": …, "rows": …, "bytes": …}
    {"op": "measure", "query": "…", "form": "…", "threads": 8, "duration": 2.0}
        -> {"completed": …, "seconds": …, "p50_ms": …, "p99_ms": …, "errors": 0}

A query's time is the query plus the serialisation of its whole answer (SPARQL JSON for SELECT and ASK,
Turtle for DESCRIBE and CONSTRUCT), both in the thread that ran it: pyoxigraph's result iterators must
not cross threads. The threads share the store; query evaluation releases the GIL.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import pyoxigraph as ox


def run_once(store: ox.Store, query: str, form: str) -> bytes:
    result = store.query(query, use_default_graph_as_union=True)
    if form == "graph":
        return result.serialize(format=ox.RdfFormat.TURTLE)
    return result.serialize(format=ox.QueryResultsFormat.JSON)


def count_rows(body: bytes, form: str) -> int:
    if form == "graph":
        return sum(1 for _ in ox.parse(body, format=ox.RdfFormat.TURTLE))
    data = json.loads(body)
    if "boolean" in data:
        return 1
    return len(data["results"]["bindings"])


def percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def measure(store: ox.Store, query: str, form: str, threads: int, duration: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(threads + 1)
    deadline = [0.0]

    def loop():
        mine = []
        start_gate.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline[0]:
                break
            try:
                run_once(store, query, form)
            except Exception:  # noqa: BLE001 - counted and reported, as wrk counts failed requests
                with lock:
                    errors[0] += 1
                continue
            t1 = time.perf_counter()
            if t1 <= deadline[0]:  # like wrk: only requests completed inside the window count
                mine.append(t1 - t0)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    begin = time.perf_counter()
    deadline[0] = begin + duration
    start_gate.wait()
    for w in workers:
        w.join()
    latencies.sort()
    return {"completed": len(latencies), "seconds": duration, "errors": errors[0],
            "p50_ms": None if not latencies else percentile(latencies, 50) * 1000,
            "p99_ms": None if not latencies else percentile(latencies, 99) * 1000,
            "mean_ms": None if not latencies else sum(latencies) / len(latencies) * 1000}


def main() -> int:
    path = sys.argv[1]
    t0 = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    load_s = time.perf_counter() - t0
    print(json.dumps({"ready": True, "load_s": load_s, "triples": len(store)}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["op"] == "probe":
                t = time.perf_counter()
                body = run_once(store, cmd["query"], cmd["form"])
                seconds = time.perf_counter() - t
                answer = {"ok": True, "seconds": seconds, "bytes": len(body), "rows": count_rows(body, cmd["form"])}
            elif cmd["op"] == "measure":
                answer = measure(store, cmd["query"], cmd["form"], int(cmd["threads"]), float(cmd["duration"]))
            else:
                answer = {"ok": False, "error": f"unknown op {cmd['op']!r}"}
        except Exception as error:  # noqa: BLE001 - reported to the driver, which flags it
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
