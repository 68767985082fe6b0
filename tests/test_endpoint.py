"""The SPARQL endpoint over real HTTP: protocol, negotiation, errors, limits, safety, health and metrics."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
from live_server import LiveServer
from rdflib import Graph

SC = "https://w3id.org/statecraft/ontology#"
STATES = f"SELECT ?s WHERE {{ ?s a <{SC}State> }} ORDER BY ?s"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def sparql(server, method="GET", **kwargs) -> httpx.Response:
    return httpx.request(method, server.url + "/sparql", timeout=30, **kwargs)


def test_get_form_post_and_direct_post_give_the_same_answer(server):
    accept = {"Accept": "application/sparql-results+json"}
    answers = [
        sparql(server, params={"query": STATES}, headers=accept),
        sparql(server, "POST", data={"query": STATES}, headers=accept),
        sparql(server, "POST", content=STATES.encode(), headers={**accept, "Content-Type": "application/sparql-query"}),
    ]
    rows = []
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/sparql-results+json; charset=utf-8"
        rows.append([b["s"]["value"] for b in answer.json()["results"]["bindings"]])
    assert rows[0] == rows[1] == rows[2] and len(rows[0]) == 6


def test_url_and_body_parameters_merge_and_the_protocol_dataset_overrides_the_union(server):
    reference = "https://w3id.org/statecraft/graph/reference"
    query = f"ASK {{ ?s a <{SC}Statement> }}"
    assert sparql(server, params={"query": query}).json()["boolean"] is True
    narrowed = sparql(server, "POST", params={"default-graph-uri": reference}, data={"query": query})
    assert narrowed.json()["boolean"] is False  # statements live in the article's graph, not the reference graph
    named = sparql(server, params={"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                                   "named-graph-uri": reference})
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [reference]


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/*", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/html, */*;q=0.1", "application/sparql-results+json"),
])
def test_select_results_by_content_negotiation(server, accept, expected):
    answer = sparql(server, params={"query": STATES}, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{expected}; charset=utf-8"


@pytest.mark.parametrize("accept, expected, rdflib_format", [
    ("text/turtle", "text/turtle", "turtle"), ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"), ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/trig", "application/trig", "trig"), ("application/n-quads", "application/n-quads", "nquads"),
])
def test_construct_and_describe_in_every_rdf_syntax(server, accept, expected, rdflib_format):
    for query in (f"CONSTRUCT {{ ?s a <{SC}State> }} WHERE {{ ?s a <{SC}State> }}",
                  "DESCRIBE <https://w3id.org/statecraft/id/state/poland>"):
        answer = sparql(server, params={"query": query}, headers={"Accept": accept})
        assert answer.status_code == 200 and answer.headers["content-type"] == f"{expected}; charset=utf-8"
        from rdflib import Dataset
        parsed = Dataset() if rdflib_format in ("trig", "nquads") else Graph()
        parsed.parse(data=answer.text, format=rdflib_format)
        assert len(parsed) > 0


def test_format_parameter_overrides_accept(server):
    answer = sparql(server, params={"query": STATES, "format": "csv"}, headers={"Accept": "application/sparql-results+xml"})
    assert answer.headers["content-type"] == "text/csv; charset=utf-8" and answer.text.startswith("s\r\n")


def test_406_when_nothing_acceptable(server):
    answer = sparql(server, params={"query": STATES}, headers={"Accept": "image/png"})
    assert answer.status_code == 406 and "application/sparql-results+json" in answer.text
    rdf_for_select = sparql(server, params={"query": STATES}, headers={"Accept": "text/turtle"})
    assert rdf_for_select.status_code == 406


@pytest.mark.parametrize("request_kwargs, status, says", [
    ({"params": {"query": "SELEC ?x WHERE {}"}}, 400, "syntax error"),
    ({"params": {"query": ["ASK {}", "ASK {}"]}}, 400, "2 'query' parameters"),
    ({"method": "POST", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415, "unsupported media type"),
    ({"method": "POST", "content": "ASK {}".encode("utf-16"), "headers": {"Content-Type": "application/sparql-query"}},
     400, "UTF-8"),
    ({"method": "PUT", "params": {"query": "ASK {}"}}, 405, "use GET or POST"),
    ({"method": "POST", "data": {"update": "INSERT DATA { <a:b> <a:c> <a:d> }"}}, 403, "statecraft build"),
    ({"method": "POST", "data": {"update": "INSERT DATA { <a:b> <a:c> "}}, 400, "Update syntax error"),
    ({"params": {"update": "CLEAR ALL"}}, 400, "POST"),
])
def test_malformed_requests_get_the_right_status_and_a_message(server, request_kwargs, status, says):
    method = request_kwargs.pop("method", "GET")
    answer = sparql(server, method, **request_kwargs)
    assert answer.status_code == status, answer.text
    assert says in answer.text and "Traceback" not in answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"


def test_oversized_request_body_gets_413(server):
    query = "ASK { } # " + "x" * 1_100_000
    answer = sparql(server, "POST", content=query.encode(), headers={"Content-Type": "application/sparql-query"})
    assert answer.status_code == 413 and "exceeds the limit" in answer.text


def test_a_runaway_query_is_stopped_while_light_queries_keep_answering(server):
    heavy: dict = {}

    def run_heavy():
        started = time.monotonic()
        heavy["answer"] = sparql(server, params={"query": RUNAWAY})
        heavy["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_heavy)
    thread.start()
    time.sleep(0.5)
    light_times = []
    while thread.is_alive():
        started = time.monotonic()
        answer = sparql(server, params={"query": "ASK { ?s ?p ?o }"})
        light_times.append(time.monotonic() - started)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
        time.sleep(0.2)
    thread.join()
    assert heavy["answer"].status_code == 503 and "limit of 3 s" in heavy["answer"].text
    assert 2.5 < heavy["seconds"] < 10
    assert len(light_times) >= 5 and max(light_times) < 1.0, light_times
    # the killed worker is replaced: the pool still has two workers that answer
    time.sleep(3)
    assert all(sparql(server, params={"query": "ASK {}"}).status_code == 200 for _ in range(4))
    metrics = httpx.get(server.url + "/metrics").text
    values = dict(line.rsplit(" ", 1) for line in metrics.splitlines() if line and not line.startswith("#"))
    assert int(values["statecraft_query_timeouts_total"]) >= 1
    assert int(values['statecraft_queries_total{outcome="timeout"}']) >= 1
    assert int(values["statecraft_worker_restarts_total"]) >= 1


def test_service_is_refused_and_makes_no_outbound_request(server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections = []

    def accept():
        try:
            connections.append(listener.accept())
        except OSError:
            pass

    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    answer = sparql(server, params={"query": query})
    accept()
    listener.close()
    assert answer.status_code == 403 and "SERVICE" in answer.text and "allow-list" in answer.text
    assert connections == []
    # the word inside a string or a comment is not a SERVICE clause
    harmless = sparql(server, params={"query": 'SELECT ("SERVICE <http://x/>" AS ?t) WHERE {} # SERVICE <http://y/>'})
    assert harmless.status_code == 200


def test_cors_allows_any_origin(server):
    answer = sparql(server, params={"query": "ASK {}"}, headers={"Origin": "https://comunica.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(server.url + "/sparql", headers={
        "Origin": "https://comunica.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


def test_service_description_by_negotiation(server):
    from rdflib import URIRef
    answer = sparql(server, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = Graph().parse(data=answer.text, format="turtle")
    SD = "http://www.w3.org/ns/sparql-service-description#"
    assert (None, URIRef(SD + "endpoint"), URIRef(server.url + "/sparql")) in graph
    assert (None, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in graph
    names = set(graph.objects(None, URIRef(SD + "name")))
    assert URIRef("https://w3id.org/statecraft/graph/inferred") in names


def test_graph_store_read_side(server, built):
    reference = "https://w3id.org/statecraft/graph/reference"
    graph = httpx.get(server.url + "/data", params={"graph": reference}, headers={"Accept": "text/turtle"})
    assert graph.status_code == 200, graph.text
    parsed = Graph().parse(data=graph.text, format="turtle")
    report = json.loads((built.dist / "build-report.json").read_text(encoding="utf-8"))
    assert len(parsed) == report["triples_per_graph"][reference]
    # ?default is the store's own default graph, as in the Oxigraph server: every statement of this
    # dataset is in a named graph, so it is empty (queries still see the union as their default graph)
    default = httpx.get(server.url + "/data?default", headers={"Accept": "application/n-triples"})
    assert default.status_code == 200 and len(Graph().parse(data=default.text, format="nt")) == 0
    redirected = httpx.get(server.url + "/graph/reference", headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert redirected.history[0].status_code == 303 and len(Graph().parse(data=redirected.text)) == len(parsed)
    unknown = httpx.get(server.url + "/data", params={"graph": "https://example.org/none"})
    assert unknown.status_code == 404 and "no graph" in unknown.text


def test_void_and_dumps(server, built):
    void = httpx.get(server.url + "/.well-known/void", headers={"Accept": "application/ld+json"})
    assert void.status_code == 200 and void.headers["content-type"].startswith("application/ld+json")
    assert len(Graph().parse(data=void.text, format="json-ld")) > 20
    for minted in ("/dataset", "/dataset/graph/reference", "/dataset/distribution/statecraft.trig"):
        redirected = httpx.get(server.url + minted, headers={"Accept": "text/turtle"}, follow_redirects=True)
        assert redirected.history[0].status_code == 303 and "void:Dataset" in redirected.text
    dump = httpx.get(server.url + "/dist/statecraft.nq")
    assert dump.status_code == 200 and dump.content == (built.dist / "statecraft.nq").read_bytes()
    assert httpx.get(server.url + "/dist/secret.txt").status_code == 404


def test_health_and_metrics(server):
    health = httpx.get(server.url + "/health").json()
    assert health["status"] == "ok" and health["graphs"] == 4 and health["triples"] > 4000
    sparql(server, params={"query": "ASK {}"})
    metrics = httpx.get(server.url + "/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    for series in ('statecraft_queries_total{outcome="ok"}', "statecraft_query_duration_seconds_count",
                   "statecraft_queries_in_flight", "statecraft_query_timeouts_total"):
        assert series in text


def test_docs_are_served(server):
    index = httpx.get(server.url + "/docs/")
    assert index.status_code == 200 and 'href="/docs/cookbook.md"' in index.text
    cookbook = httpx.get(server.url + "/docs/cookbook.md")
    assert cookbook.headers["content-type"] == "text/markdown; charset=utf-8" and cookbook.text.startswith("# Query cookbook")
    assert httpx.get(server.url + "/docs/..%2Fpyproject.toml").status_code == 404


def test_an_unknown_function_leaves_its_variable_unbound(server):
    """SPARQL 1.1 §17.6: calling a function the engine does not know is an error value, not a failed query."""
    query = 'SELECT ?x ?y WHERE { BIND (1 AS ?x) BIND (<http://example.org/no-such-function>(?x) AS ?y) }'
    answer = sparql(server, params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    assert answer.json()["results"]["bindings"] == [{"x": {"type": "literal", "value": "1",
                                                           "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]


def test_a_result_over_the_cap_is_refused_not_truncated(built):
    from conftest import LiveServer
    capped = LiveServer(["--dist", str(built.dist), "--workers", "1"], env={"STATECRAFT_MAX_RESULT_BYTES": "2000"})
    try:
        small = httpx.get(capped.url + "/sparql", params={"query": "ASK {}"})
        assert small.status_code == 200
        big = httpx.get(capped.url + "/sparql", params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"})
        assert big.status_code == 507 and "cap of 2000 bytes" in big.text and "never truncated" in big.text
    finally:
        capped.stop()


def test_several_front_processes_share_the_port(built, tmp_path):
    live = LiveServer(["--dist", str(built.dist), "--no-build", "--http-workers", "2", "--workers", "1"],
                      log=tmp_path / "server.log")
    try:
        processes = set()
        for _ in range(60):
            with httpx.Client() as fresh_connection:
                processes.add(fresh_connection.get(live.url + "/health").json()["process"])
                answer = fresh_connection.post(live.url + "/sparql", data={"query": "ASK { ?s a ?t }"},
                                               headers={"Accept": "application/sparql-results+json"})
                assert answer.json()["boolean"] is True
        assert len(processes) == 2
    finally:
        live.stop()


def test_a_query_whose_client_went_away_is_stopped_before_the_time_limit(server):
    def counters():
        text = httpx.get(server.url + "/metrics").text
        return dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))

    before = counters()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.url + "/sparql", data={"query": RUNAWAY}, timeout=0.5)
    time.sleep(1.5)  # well inside the 3 s limit: only the disconnect can have stopped it
    after = counters()
    assert int(after["statecraft_queries_abandoned_total"]) == int(before["statecraft_queries_abandoned_total"]) + 1
    assert int(after["statecraft_query_timeouts_total"]) == int(before["statecraft_query_timeouts_total"])
    assert all(sparql(server, params={"query": "ASK {}"}).status_code == 200 for _ in range(4))
