"""Curated writes end to end: the real server on a loopback port, an on-disk store, real HTTP.

A write lands only if the shapes still hold for what it touched; otherwise 422 with the report and
the store exactly as it was. Committed writes are journaled (who, when, which quads), survive a
restart and, exported to data/curated/, a rebuild.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pytest
from rdflib import Graph, URIRef

from conftest import copy_project, run_cli
from live_server import LiveServer, free_port

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SC = "https://w3id.org/statecraft/ontology#"
ID = "https://w3id.org/statecraft/id/"
ARTICLE_GRAPH = "https://w3id.org/statecraft/graph/article/north-korea-russia-south-korea-security-2024-10-29"
REFERENCE = "https://w3id.org/statecraft/graph/reference"
STATEMENT = ID + "statement/kim-soo-kyung-warns-of-technology-transfer-2024-10-29"
NORTH_KOREA = ID + "state/north-korea"
JOURNAL = "https://w3id.org/statecraft/graph/journal"

ADD_ALT_LABEL = f'INSERT DATA {{ GRAPH <{REFERENCE}> {{ <{NORTH_KOREA}> <http://www.w3.org/2004/02/skos/core#altLabel> "DPRK (curated)"@en }} }}'
DROP_EPISTEMIC_STATUS = (f"DELETE WHERE {{ GRAPH <{ARTICLE_GRAPH}> {{ <{STATEMENT}> <{SC}epistemicStatus> ?status }} }}")
DROP_DATE = f"DELETE WHERE {{ GRAPH <{ARTICLE_GRAPH}> {{ <{STATEMENT}> <{SC}date> ?date }} }}"


def select(server, query: str) -> list[dict]:
    answer = httpx.get(server.url + "/sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]["bindings"]


def fingerprint(server) -> dict[str, int]:
    rows = select(server, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


def update(server, text: str, headers=AUTH, **kwargs):
    return httpx.post(server.url + "/sparql", data={"update": text}, headers=headers, timeout=60, **kwargs)


def has_alt_label(server) -> bool:
    return bool(select(server, f'SELECT * {{ <{NORTH_KOREA}> ?p "DPRK (curated)"@en }}'))


@pytest.fixture()
def writable(built, tmp_path):
    """A write-enabled server on a fresh on-disk store."""
    log = tmp_path / "server.log"
    args = ["--dist", str(built.dist), "--store", str(tmp_path / "store"), "--workers", "2", "--no-build"]
    server = LiveServer(args, env={"STATECRAFT_WRITE_TOKEN": TOKEN}, log=log)
    server.args, server.store = args, tmp_path / "store"
    yield server
    server.stop()


def test_writes_are_refused_unless_an_operator_enables_them(server):
    before = fingerprint(server)
    refused = update(server, ADD_ALT_LABEL)
    assert refused.status_code == 403 and "read-only" in refused.text
    put = httpx.put(server.url + "/data", params={"graph": REFERENCE}, content=b"<a:b> <a:c> <a:d> .",
                    headers={**AUTH, "Content-Type": "application/n-triples"})
    assert put.status_code == 403
    assert fingerprint(server) == before


def test_a_write_without_a_valid_token_changes_nothing(writable):
    before = fingerprint(writable)
    missing = update(writable, ADD_ALT_LABEL, headers={})
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong = update(writable, ADD_ALT_LABEL, headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
    assert wrong.status_code == 403 and "not valid" in wrong.text
    delete = httpx.delete(writable.url + "/data", params={"graph": REFERENCE})
    assert delete.status_code == 401
    assert fingerprint(writable) == before


def test_a_valid_write_is_committed_read_back_and_journaled(writable):
    answer = update(writable, ADD_ALT_LABEL)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["inserted"] == 1 and summary["deleted"] == 0 and summary["change"].startswith(ID + "change/")
    assert has_alt_label(writable)   # the next query already reads the new generation
    journal = select(writable, f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX sc: <{SC}>
        SELECT ?who ?when ?inserted ?deleted ?request WHERE {{ GRAPH <{JOURNAL}> {{
          <{summary['change']}> a sc:CuratedChange ; prov:wasAssociatedWith ?agent ; prov:endedAtTime ?when ;
              sc:insertedQuads ?inserted ; sc:deletedQuads ?deleted ; sc:changeRequest ?request .
          ?agent <http://www.w3.org/2000/01/rdf-schema#label> ?who }} }}""")
    assert len(journal) == 1
    entry = journal[0]
    assert entry["who"]["value"] == "curator" and entry["deleted"]["value"] == ""
    assert "DPRK (curated)" in entry["inserted"]["value"] and REFERENCE in entry["inserted"]["value"]
    assert entry["request"]["value"] == ADD_ALT_LABEL
    assert TOKEN not in writable.log.read_text()


def test_a_write_that_breaks_a_shape_is_refused_with_the_report_and_nothing_changes(writable):
    before = fingerprint(writable)
    refused = update(writable, DROP_EPISTEMIC_STATUS)
    assert refused.status_code == 422, refused.text
    report = refused.json()
    violation = next(v for v in report["violations"] if v["resultPath"] == "sc:epistemicStatus")
    assert violation["focusNode"] == f"<{STATEMENT}>" and "epistemic status" in violation["message"]
    assert violation["severity"] == "Violation" and violation["sourceShape"]
    as_turtle = update(writable, DROP_EPISTEMIC_STATUS, headers={**AUTH, "Accept": "text/turtle"})
    assert as_turtle.status_code == 422 and as_turtle.headers["content-type"].startswith("text/turtle")
    shapes_report = Graph().parse(data=as_turtle.text, format="turtle")
    assert (None, URIRef("http://www.w3.org/ns/shacl#focusNode"), URIRef(STATEMENT)) in shapes_report
    assert fingerprint(writable) == before
    assert select(writable, f"SELECT ?s {{ <{STATEMENT}> <{SC}epistemicStatus> ?s }}")


def test_an_update_is_all_or_nothing_across_its_operations(writable):
    before = fingerprint(writable)
    refused = update(writable, ADD_ALT_LABEL + " ; " + DROP_EPISTEMIC_STATUS)
    assert refused.status_code == 422
    assert not has_alt_label(writable) and fingerprint(writable) == before


def test_warnings_come_back_with_a_committed_write(writable):
    answer = update(writable, DROP_DATE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["deleted"] == 1
    assert any(w["focusNode"] == f"<{STATEMENT}>" and w["resultPath"] == "sc:date" for w in answer.json()["warnings"])


def test_the_server_s_own_graphs_cannot_be_written(writable):
    for graph in (JOURNAL, "https://w3id.org/statecraft/graph/inferred", "https://w3id.org/statecraft/graph/ontology"):
        answer = update(writable, f"CLEAR GRAPH <{graph}>")
        assert answer.status_code == 403 and "may not change it" in answer.text, graph
        put = httpx.put(writable.url + "/data", params={"graph": graph}, content=b"",
                        headers={**AUTH, "Content-Type": "text/turtle"})
        assert put.status_code == 403, graph
    load = update(writable, "LOAD <file:///etc/passwd> INTO GRAPH <http://example.org/g>")
    assert load.status_code == 403 and "LOAD is refused" in load.text


def test_inferences_follow_the_write(writable):
    person = ID + "person/curated-test-person"
    inferred = "https://w3id.org/statecraft/graph/inferred"
    query = f"ASK {{ GRAPH <{inferred}> {{ <{person}> a <http://www.w3.org/ns/prov#Agent> }} }}"
    answer = update(writable, f'INSERT DATA {{ GRAPH <{REFERENCE}> {{ <{person}> a <{SC}Person> ; '
                              f'<http://www.w3.org/2000/01/rdf-schema#label> "Curated Test Person"@en }} }}')
    assert answer.status_code == 200, answer.text
    assert httpx.get(writable.url + "/sparql", params={"query": query},
                     headers={"Accept": "application/sparql-results+json"}).json()["boolean"]
    assert update(writable, f"DELETE WHERE {{ GRAPH <{REFERENCE}> {{ <{person}> ?p ?o }} }}").status_code == 200
    assert not httpx.get(writable.url + "/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"}).json()["boolean"]


def test_named_tokens_are_journaled_by_name(built, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("# curators\nada aaaaaaaaaaaaaaaaaaaaaaaa\ngrace bbbbbbbbbbbbbbbbbbbbbbbb\n")
    server = LiveServer(["--dist", str(built.dist), "--store", str(tmp_path / "store"), "--workers", "1"],
                        env={"STATECRAFT_WRITE_TOKEN_FILE": str(tokens)})
    try:
        answer = update(server, ADD_ALT_LABEL, headers={"Authorization": "Bearer bbbbbbbbbbbbbbbbbbbbbbbb"})
        assert answer.status_code == 200, answer.text
        rows = select(server, f"""SELECT ?who WHERE {{ GRAPH <{JOURNAL}> {{ <{answer.json()['change']}>
            <http://www.w3.org/ns/prov#wasAssociatedWith>/<http://www.w3.org/2000/01/rdf-schema#label> ?who }} }}""")
        assert [r["who"]["value"] for r in rows] == ["grace"]
        basic = httpx.post(server.url + "/sparql", data={"update": DROP_DATE},
                           auth=("anyone", "aaaaaaaaaaaaaaaaaaaaaaaa"))
        assert basic.status_code == 200, basic.text
    finally:
        server.stop()


def test_writes_need_the_on_disk_store(built):
    result = run_cli("serve", "--port", "1", "--dist", str(built.dist), "--no-build",
                     env={"STATECRAFT_WRITE_TOKEN": TOKEN})
    assert result.returncode == 2 and "writes need the on-disk store" in result.stderr
    assert "Traceback" not in result.stderr
    short = run_cli("serve", "--port", "1", "--dist", str(built.dist), "--store", "/nonexistent/x",
                    env={"STATECRAFT_WRITE_TOKEN": "short"})
    assert short.returncode == 2 and "shorter than 16" in short.stderr


def test_a_committed_write_survives_a_restart_and_a_rebuild_once_exported(tmp_path):
    project = copy_project(tmp_path / "project")
    store = tmp_path / "store"
    args = ["--store", str(store), "--workers", "1"]
    first = LiveServer(args, env={"STATECRAFT_WRITE_TOKEN": TOKEN}, root=project, log=tmp_path / "first.log")
    try:
        assert update(first, ADD_ALT_LABEL).status_code == 200
    finally:
        first.stop()
    second = LiveServer(args, env={"STATECRAFT_WRITE_TOKEN": TOKEN}, root=project)
    try:
        assert has_alt_label(second)                      # the restart kept it
    finally:
        second.stop()

    # A changed source changes the dataset: the store, which holds a write the build lacks, is not replaced.
    states = project / "data" / "reference" / "states.ttl"
    states.write_text(states.read_text(encoding="utf-8") + f'\n<{NORTH_KOREA}> '
                      '<http://www.w3.org/2004/02/skos/core#altLabel> "North Korea (edited source)"@en .\n',
                      encoding="utf-8")
    refused = run_cli("--root", str(project), "serve", "--port", str(free_port()), "--store", str(store),
                      timeout=300)
    assert refused.returncode == 2 and "export-curated" in refused.stderr and "Traceback" not in refused.stderr

    exported = run_cli("--root", str(project), "export-curated", "--store", str(store))
    assert exported.returncode == 0, exported.stderr
    assert (project / "data" / "curated" / "journal.trig").is_file()
    third = LiveServer(args, env={"STATECRAFT_WRITE_TOKEN": TOKEN}, root=project, log=tmp_path / "third.log")
    try:
        assert has_alt_label(third)                       # rebuilt from the sources, which now replay the change
        assert select(third, f'ASK {{ <{NORTH_KOREA}> ?p "North Korea (edited source)"@en }}'.replace("ASK", "SELECT *"))
        assert len(select(third, f"SELECT ?c {{ GRAPH <{JOURNAL}> {{ ?c a <{SC}CuratedChange> }} }}")) == 1
        report = json.loads((project / "dist" / "build-report.json").read_text(encoding="utf-8"))
        assert len(report["curated_changes"]) == 1
    finally:
        third.stop()


def test_acknowledged_writes_survive_sigkill_mid_burst(built, tmp_path):
    """Writes in a burst; SIGKILL to the whole server while they are in flight; restart: every
    acknowledged write is there, and each write is there whole or not at all."""
    store = tmp_path / "store"
    args = ["--dist", str(built.dist), "--store", str(store), "--workers", "1", "--no-build"]
    server = LiveServer(args, env={"STATECRAFT_WRITE_TOKEN": TOKEN})
    acknowledged, attempted = [], []

    def burst():
        with httpx.Client(timeout=30) as client:
            for number in range(200):
                attempted.append(number)
                text = (f'INSERT DATA {{ GRAPH <http://example.org/burst> {{ <http://example.org/w{number}> '
                        f'<http://example.org/a> "{number}" ; <http://example.org/b> "{number}" }} }}')
                try:
                    answer = client.post(server.url + "/sparql", data={"update": text}, headers=AUTH)
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    acknowledged.append(number)

    writer = threading.Thread(target=burst)
    writer.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(server.process.pid, signal.SIGKILL)
    writer.join(60)
    server.process.wait(10)
    assert len(acknowledged) >= 5, "the burst did not get going"

    restarted = LiveServer(args, env={"STATECRAFT_WRITE_TOKEN": TOKEN})
    try:
        rows = select(restarted, "SELECT ?s (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/burst> { ?s ?p ?o } } "
                                 "GROUP BY ?s")
        present = {int(r["s"]["value"].rsplit("w", 1)[1]): int(r["n"]["value"]) for r in rows}
        assert set(acknowledged) <= set(present), f"lost acknowledged writes: {sorted(set(acknowledged) - set(present))}"
        assert all(n == 2 for n in present.values()), f"half-applied writes: {present}"
        assert set(present) <= set(attempted)
        journaled = select(restarted, f"SELECT ?c {{ GRAPH <{JOURNAL}> {{ ?c a <{SC}CuratedChange> }} }}")
        assert len(journaled) == len(present)
        assert not [p for p in store.iterdir() if p.name.startswith("candidate-")], "a dead candidate was left"
    finally:
        restarted.stop()


def test_one_server_at_a_time_writes_a_store(writable):
    second = run_cli("serve", "--port", str(free_port()), *writable.args, env={"STATECRAFT_WRITE_TOKEN": TOKEN},
                     timeout=120)
    assert second.returncode == 2 and "another server writes the store" in second.stderr, second.stderr
    assert update(writable, ADD_ALT_LABEL).status_code == 200
