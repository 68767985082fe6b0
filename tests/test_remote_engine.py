"""`statecraft push` into the Oxigraph server, then `statecraft serve --engine URL` on top of it: the
same answers, pages and limits as the embedded store, end to end over HTTP on loopback."""

import re
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, run_cli
from live_server import LiveServer, OxigraphServer

QUERIES = sorted((ROOT / "docs" / "queries").glob("cq*.rq"))
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def engine(built, tmp_path_factory):
    oxigraph = OxigraphServer(tmp_path_factory.mktemp("oxigraph") / "store")
    yield oxigraph
    oxigraph.stop()


@pytest.fixture(scope="module")
def pushed(engine, built):
    result = run_cli("push", "--dist", str(built.dist), "--no-build", "--engine-store", engine.store_url,
                     "--engine", engine.query_url)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def remote(pushed, engine, tmp_path_factory):
    live = LiveServer(["--engine", engine.query_url, "--query-timeout", "3"],
                      log=tmp_path_factory.mktemp("remote") / "server.log")
    yield live
    live.stop()


def rows(server, query: str) -> list[tuple]:
    """The answer as a sorted list of rows. GROUP_CONCAT's order is not defined by SPARQL and follows
    the store's index order, which differs between Oxigraph's in-memory and RocksDB storage, so the
    parts of a value joined by one of the query's own separators are compared as a sorted list."""
    answer = httpx.post(server.url + "/sparql", data={"query": query}, headers=JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    separators = re.findall(r'separator\s*=\s*"([^"]+)"', query, flags=re.IGNORECASE)

    def unordered(value: str) -> str:
        for separator in separators:
            if separator in value:
                return separator.join(sorted(value.split(separator)))
        return value

    bindings = answer.json()["results"]["bindings"]
    return sorted(tuple(sorted((k, unordered(v["value"]), v.get("datatype", ""), v.get("xml:lang", ""))
                               for k, v in row.items())) for row in bindings)


def test_push_loads_every_graph_and_checks_the_counts(pushed, built):
    import json
    report = json.loads((built.dist / "build-report.json").read_text(encoding="utf-8"))
    for graph, count in report["triples_per_graph"].items():
        assert f"pushed <{graph}>: {count} triples" in pushed.stdout
    assert "the engine holds every graph of the build" in pushed.stdout


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_competency_queries_answer_the_same_in_both_modes(remote, server, path: Path):
    query = path.read_text(encoding="utf-8")
    embedded, through_engine = rows(server, query), rows(remote, query)
    assert embedded, f"{path.name} has no answer on the embedded store"
    assert through_engine == embedded


def test_pages_health_and_graph_store_in_remote_mode(remote, server):
    page = httpx.get(remote.url + "/id/state/north-korea")
    assert page.status_code == 200 and "North Korea" in page.text
    embedded = httpx.get(server.url + "/id/state/north-korea").text
    assert page.text.replace(remote.url, "") == embedded.replace(server.url, "")  # the links name their own server
    turtle = httpx.get(remote.url + "/id/state/north-korea", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    health = httpx.get(remote.url + "/health").json()
    assert health["engine"].endswith("/query") and health["triples"] == httpx.get(server.url + "/health").json()["triples"]
    reference = httpx.get(remote.url + "/data", params={"graph": "https://w3id.org/statecraft/graph/reference"},
                          headers={"Accept": "application/n-triples"})
    assert reference.status_code == 200 and reference.text.count("\n") > 100


def test_limits_hold_in_remote_mode(remote, engine):
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    stopped = httpx.post(remote.url + "/sparql", data={"query": runaway}, timeout=30)
    assert stopped.status_code == 503 and "limit of 3 s" in stopped.text
    service = httpx.post(remote.url + "/sparql", data={"query": f"SELECT * WHERE {{ SERVICE <{engine.query_url}> {{ ?s ?p ?o }} }}"})
    assert service.status_code == 403
    update = httpx.post(remote.url + "/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"})
    assert update.status_code == 403
    assert httpx.post(remote.url + "/sparql", data={"query": "ASK { <urn:a> <urn:b> <urn:c> }"}, headers=JSON).json() == \
        {"head": {}, "boolean": False}
    bad = httpx.post(remote.url + "/sparql", data={"query": "SELECT WHERE {"})
    assert bad.status_code == 400


def test_an_engine_whose_default_graph_is_not_the_union_is_refused(built, tmp_path):
    plain = OxigraphServer(tmp_path / "store", union_default_graph=False)
    try:
        assert run_cli("push", "--dist", str(built.dist), "--no-build", "--engine-update", plain.update_url,
                       "--engine", plain.query_url).returncode == 0
        with pytest.raises(RuntimeError, match="not the union of its named graphs"):
            LiveServer(["--engine", plain.query_url], log=tmp_path / "server.log")
    finally:
        plain.stop()


def test_push_to_an_engine_that_is_not_there_says_so(built):
    from live_server import free_port
    result = run_cli("push", "--dist", str(built.dist), "--no-build", "--engine-store",
                     f"http://127.0.0.1:{free_port()}/store")
    assert result.returncode == 2 and "could not be reached" in result.stderr
