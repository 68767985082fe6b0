"""One real server for the whole W3C run: an on-disk Oxigraph store holding every graph the suites
need, served by `statecraft serve --no-build` as a subprocess on a free loopback port.

Graphs in the store:
- the protocol suite's data (protocol/data*.nt) under the IRIs its requests name
  (http://kasei.us/2009/09/sparql/data/dataN.rdf);
- every data file of the query suites (qt:data, qt:graphData, and FROM / FROM NAMED targets),
  each under a named graph whose IRI is the file's own file:// URL, so that a test's dataset is
  given to the endpoint by default-graph-uri / named-graph-uri (or by the query's FROM clauses).

Results are collected per test for docs/conformance.md (see report.py); the file is written only
when STATECRAFT_WRITE_CONFORMANCE=1 and the whole W3C selection ran.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pyoxigraph as ox
import pytest

from live_server import LiveServer

from . import report as conformance
from .manifest import ROOT, TOP_MANIFESTS, protocol_graphs, query_tests, require_suites, url_path
from .results import dataset_iris

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------

def query_data_files(root: Path) -> set[str]:
    """File URLs of every graph a query test reads: its data, its named graphs, its FROM targets."""
    files: set[str] = set()
    for top in TOP_MANIFESTS:
        for test in query_tests(root, top):
            if test.service_data or test.kind not in ("QueryEvaluationTest", "CSVResultFormatTest"):
                continue
            files.update(test.data)
            files.update(test.graph_data)
            text = test.query_path.read_text(encoding="utf-8")
            for iri in dataset_iris(text):
                target = urljoin(test.query, iri)
                if target.startswith("file:") and url_path(target).is_file():
                    files.add(target)
    return files


def load_graph(store: ox.Store, url: str, graph: str) -> int:
    path = url_path(url)
    quads = list(ox.parse(path=str(path), base_iri=url, rename_blank_nodes=True))
    name = ox.NamedNode(graph)
    store.extend([ox.Quad(q.subject, q.predicate, q.object, name) for q in quads])
    return len(quads)


def build_store(path: Path, root: Path) -> dict[str, int]:
    """Write the store and close it (RocksDB's lock must be free before the server opens it read-only)."""
    store = ox.Store(str(path))
    graphs = {}
    for graph, url in sorted(protocol_graphs(root).items()):
        graphs[graph] = load_graph(store, url, graph)
    for url in sorted(query_data_files(root)):
        graphs[url] = load_graph(store, url, url)
    store.flush()
    del store
    return graphs


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

@dataclass
class Server:
    base: str
    client: httpx.Client
    graphs: dict[str, int]     # graph IRI → triples, as loaded (empty files make no graph)

    @property
    def endpoint(self) -> str:
        return f"{self.base}/sparql"



@pytest.fixture(scope="session")
def w3c_server(tmp_path_factory) -> Server:
    root = require_suites()
    work = tmp_path_factory.mktemp("w3c")
    store_dir = work / "store"
    graphs = build_store(store_dir, root)
    log = work / "server.log"
    try:
        live = LiveServer(["--store", str(store_dir), "--no-build", "--workers", "2", "--query-timeout", "10"],
                          log=log, log_level="warning")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    client = httpx.Client(timeout=30)
    try:
        yield Server(live.url, client, graphs)
    finally:
        client.close()
        live.stop()


# --------------------------------------------------------------------------------------------
# Outcomes, for docs/conformance.md
# --------------------------------------------------------------------------------------------

def _ours(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if _ours(item) and hasattr(item, "callspec"):
            item.user_properties.append(("w3c_suite", getattr(item.module, "SUITE", item.module.__name__)))
            item.user_properties.append(("w3c_test", item.callspec.id))


def pytest_deselected(items):
    conformance.RUN.deselected += sum(1 for item in items if _ours(item) and hasattr(item, "callspec"))


def pytest_collection_finish(session):
    conformance.RUN.collected = sum(1 for item in session.items if _ours(item) and hasattr(item, "callspec"))
    conformance.RUN.started = time.monotonic()


def pytest_runtest_logreport(report):
    properties = dict(report.user_properties)
    if "w3c_suite" in properties:
        conformance.RUN.record(report, properties)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    summary = conformance.RUN.summary_line()
    if summary:
        terminalreporter.section("W3C SPARQL 1.1 test suites")
        for entry in sorted(conformance.RUN.records.values(), key=lambda e: (e.suite, e.test)):
            # every protocol test, and every test of any suite that did not simply pass, with its outcome
            if entry.suite.lower().startswith("protocol") or entry.outcome != "passed":
                reason = f" — {entry.reason}" if entry.reason else ""
                terminalreporter.write_line(f"{entry.suite} | {entry.test} | {conformance.LABELS[entry.outcome]}{reason}")
        terminalreporter.write_line(summary)
        written = conformance.maybe_write(ROOT / "docs" / "conformance.md")
        if written:
            terminalreporter.write_line(written)
