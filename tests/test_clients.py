"""Real clients against the real server: httpx, SPARQLWrapper and rasqal's roqet give the same answers;
raptor's rapper parses every RDF syntax the server returns."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import httpx
import pytest

from conftest import LiveServer, run_cli

QUERY = """PREFIX sc: <https://w3id.org/statecraft/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?state ?label WHERE { ?state a sc:State ; rdfs:label ?label } ORDER BY ?state"""
DESCRIBE = "DESCRIBE <https://w3id.org/statecraft/id/deployment/north-korea-to-russia-2024>"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `apt-get install -y rasqal-utils raptor2-utils` (.ci/run does this)")
    return path


def via_httpx(server) -> list[tuple[str, str]]:
    answer = httpx.post(server.url + "/sparql", data={"query": QUERY}, headers={"Accept": "application/sparql-results+json"})
    return [(b["state"]["value"], b["label"]["value"]) for b in answer.json()["results"]["bindings"]]


def via_sparqlwrapper(server) -> list[tuple[str, str]]:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper
    client = SPARQLWrapper(server.url + "/sparql")
    client.setQuery(QUERY)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    return [(b["state"]["value"], b["label"]["value"]) for b in bindings]


def via_roqet(server) -> list[tuple[str, str]]:
    result = subprocess.run([tool("roqet"), "-q", "-p", server.url + "/sparql", "-e", QUERY, "-r", "csv"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["state", "label"]
    return [tuple(row) for row in rows[1:]]


def test_three_clients_get_the_same_answer(server):
    expected = via_httpx(server)
    assert len(expected) == 6 and ("https://w3id.org/statecraft/id/state/poland", "Poland") in expected
    assert via_sparqlwrapper(server) == expected
    assert via_roqet(server) == expected


@pytest.mark.parametrize("media_type, rapper_syntax", [
    ("text/turtle", "turtle"), ("application/n-triples", "ntriples"), ("application/rdf+xml", "rdfxml"),
    ("application/trig", "trig"), ("application/n-quads", "nquads"),
])
def test_rapper_parses_what_the_server_returns(server, media_type, rapper_syntax):
    answer = httpx.get(server.url + "/sparql", params={"query": DESCRIBE}, headers={"Accept": media_type})
    assert answer.status_code == 200
    result = subprocess.run([tool("rapper"), "-i", rapper_syntax, "-c", "-", "https://w3id.org/statecraft/"],
                            input=answer.content, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    count = int(result.stderr.decode().rsplit("returned ", 1)[1].split()[0])
    assert count >= 10


def test_on_disk_store_is_reopened_without_reloading(built, tmp_path):
    store = tmp_path / "store"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    args = ["--dist", str(built.dist), "--store", str(store), "--workers", "1"]
    first = LiveServer(args, log=first_log)
    try:
        assert httpx.get(first.url + "/health").json()["triples"] > 4000
    finally:
        first.stop()
    second = LiveServer(args, log=second_log)
    try:
        assert len(via_httpx(second)) == 6
    finally:
        second.stop()
    assert "loading" in first_log.read_text() and "into the on-disk store" in first_log.read_text()
    assert "reopening it without reloading" in second_log.read_text()


def test_a_folder_that_is_not_a_store_is_never_replaced(built, tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "draft.txt").write_text("mine")
    result = run_cli("serve", "--port", "1", "--dist", str(built.dist), "--store", str(precious))
    assert result.returncode == 2
    assert "is not an Oxigraph store" in result.stderr and "Traceback" not in result.stderr
    assert (precious / "draft.txt").read_text() == "mine"
