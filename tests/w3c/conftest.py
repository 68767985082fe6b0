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


# --------------------------------------------------------------------------------------------
# A second server, with writes enabled (test_protocol_writes.py, test_graph_store.py)
# --------------------------------------------------------------------------------------------

GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _nt(term) -> str:
    return str(term)   # pyoxigraph writes terms in N-Triples form, which SPARQL's INSERT DATA reads as such


def restore_update(store_dir: Path) -> tuple[str, dict[str | None, int]]:
    """`DROP ALL ; INSERT DATA { … }` putting back every quad of the (closed) store at store_dir, and
    the triples per graph it holds (None: the default graph)."""
    store = ox.Store.read_only(str(store_dir))
    by_graph: dict[str | None, list[str]] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        graph = None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        by_graph.setdefault(graph, []).append(f"{_nt(quad.subject)} {_nt(quad.predicate)} {_nt(quad.object)} .")
    del store
    blocks = ["\n".join(by_graph.get(None, []))] + [f"GRAPH <{graph}> {{\n" + "\n".join(triples) + "\n}"
                                                    for graph, triples in sorted(by_graph.items(), key=str)
                                                    if graph is not None]
    text = "DROP ALL ;\nINSERT DATA {\n" + "\n".join(b for b in blocks if b) + "\n}\n"
    return text, {graph: len(triples) for graph, triples in by_graph.items()}


@dataclass
class WriteServer(Server):
    """The write-enabled server. `client` sends the curator's token on every request; `anonymous`
    sends none. `dataset` is the triples per graph of the suites' data (None: the default graph)."""
    token: str
    anonymous: httpx.Client
    dataset: dict[str | None, int]
    restore_text: str
    log: Path
    restored: dict[str | None, int] | None = None   # every graph's triples (journal included) after the last restore

    @property
    def graph_store(self) -> str:
        return f"{self.base}/data"

    def update(self, text: str) -> httpx.Response:
        response = self.client.post(self.endpoint, content=text.encode("utf-8"),
                                    headers={"Content-Type": "application/sparql-update"})
        assert response.status_code == 200, f"update: status {response.status_code}: {response.text[:500]}"
        return response

    def counts(self) -> dict[str | None, int]:
        """Triples per graph, asked through the endpoint: every named graph (the server's own journal and
        inferred graphs included) and, under None, the stored default graph (Graph Store GET ?default)."""
        response = self.client.get(self.endpoint, params={"query": GRAPH_COUNTS},
                                   headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.text[:500]
        counts: dict[str | None, int] = {row["g"]["value"]: int(row["n"]["value"])
                                         for row in response.json()["results"]["bindings"]}
        default = self.client.get(self.graph_store, params={"default": ""}, headers={"Accept": "application/n-triples"})
        assert default.status_code == 200, default.text[:500]
        counts[None] = sum(1 for _ in ox.parse(default.content, format=ox.RdfFormat.N_TRIPLES))
        return counts

    @staticmethod
    def suites_graphs(counts: dict[str | None, int]) -> dict[str | None, int]:
        """The counts without the graphs the server itself keeps (journal, ontology, inferences), and without
        an empty default graph."""
        from statecraft.curation import PROTECTED
        return {g: n for g, n in counts.items() if g not in PROTECTED and (g is not None or n)}

    def restore_dataset(self) -> None:
        """Back to the suites' data, through the server's own write interface (one SPARQL Update).

        Skipped when nothing was committed since the last restore: every commit adds an entry to the
        server's journal graph, so unchanged triples per graph, the journal's included, mean an unchanged
        store. (The restore itself takes most of a second: the server reads the 58 kB update with rdflib
        to find the graphs it touches; the check takes a few milliseconds.)"""
        if self.restored is not None and self.counts() == self.restored:
            return
        self.update(self.restore_text)
        counts = self.counts()
        found = self.suites_graphs(counts)
        assert found == self.dataset, ("the restored store differs from the suites' data: "
                                       f"{sorted(set(found.items()) ^ set(self.dataset.items()), key=str)[:10]}")
        self.restored = counts

    def empty_store(self) -> None:
        """No graph and an empty default graph (but for the server's own graphs), by DROP ALL."""
        self.update("DROP ALL")
        found = self.suites_graphs(self.counts())
        assert not found, f"DROP ALL left {found}"


@pytest.fixture(scope="session")
def w3c_write_server(tmp_path_factory) -> WriteServer:
    """The same data as w3c_server, in the generations layout `statecraft serve --store` writes to, served
    with a curator's token set (STATECRAFT_WRITE_TOKEN)."""
    import secrets
    from statecraft.generations import Generations
    root = require_suites()
    work = tmp_path_factory.mktemp("w3c-writes")
    store_dir = work / "store"
    store_dir.mkdir()
    generation = store_dir / "gen-000000"
    build_store(generation, root)
    restore_text, dataset = restore_update(generation)
    Generations(store_dir).point_to(generation)
    token = secrets.token_urlsafe(32)
    log = work / "server.log"
    try:
        live = LiveServer(["--store", str(store_dir), "--no-build", "--workers", "2", "--query-timeout", "10"],
                          env={"STATECRAFT_WRITE_TOKEN": token}, log=log, log_level="warning")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    client = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
    anonymous = httpx.Client(timeout=60)
    try:
        server = WriteServer(live.url, client, {g: n for g, n in dataset.items() if g is not None}, token, anonymous,
                             dataset, restore_text, log)
        counts = server.counts()
        assert server.suites_graphs(counts) == dataset, "the write-enabled server does not serve the store it was given"
        server.restored = counts   # the store as built is the suites' data
        yield server
    finally:
        client.close()
        anonymous.close()
        live.stop()
