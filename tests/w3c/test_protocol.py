"""The W3C SPARQL 1.1 Protocol suite (protocol/manifest.ttl), request by request over HTTP.

Every ht:Request of a test is sent as the manifest writes it (method, path and query string, headers,
body in its declared character encoding), with the manifest's /sparql/ prefix replaced by the
server's /sparql; the response must be in the expected status class, and, where the manifest says,
of the expected kind (boolean / tabular / RDF) and value.

The update_* tests are refused here by design: the endpoint is read-only, so their first request (a
well-formed update) must get 403 with a message saying how writes are enabled, and the store must
be unchanged; the follow-up queries that check the update's effect are not sent. The bad_update_*
tests must still get their 4xx: the endpoint checks syntax and protocol before refusing.
"""

from __future__ import annotations

import pytest
import pyoxigraph as ox
from rdflib import Graph

from .manifest import missing_message, protocol_tests, suites_root

SUITE = "Protocol"
ROOT = suites_root()
TESTS = protocol_tests(ROOT) if ROOT else []

BOOLEAN_MEDIA = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                 "application/sparql-results+xml": ox.QueryResultsFormat.XML}
TABULAR_MEDIA = {**BOOLEAN_MEDIA, "text/tab-separated-values": ox.QueryResultsFormat.TSV, "text/csv": None}
RDF_MEDIA = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt",
             "application/ld+json": "json-ld", "text/plain": "nt"}   # text/plain: N-Triples' old media type
REFUSED = "the endpoint is read-only by design: the update must be refused with 403"


def server_path(manifest_path: str) -> str:
    assert manifest_path.startswith("/sparql/"), manifest_path
    return "/sparql" + manifest_path[len("/sparql/"):]


def media_type(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def send(server, request):
    return server.client.request(request.method, server.base + server_path(request.path),
                                 headers=dict(request.headers), content=request.body)


def check_response(request, response) -> None:
    status_class = response.status_code // 100
    assert status_class in request.expected_status, (
        f"{request.method} {request.path}: status {response.status_code}, expected "
        f"{' or '.join(f'{c}xx' for c in request.expected_status)}; body: {response.text[:300]}")
    media = media_type(response)
    if request.expected_format == "boolean":
        assert media in BOOLEAN_MEDIA, f"a boolean result came as {media}"
        parsed = ox.parse_query_results(response.content, format=BOOLEAN_MEDIA[media])
        assert isinstance(parsed, ox.QueryBoolean), f"expected a boolean result, got {type(parsed).__name__}"
        if request.expected_boolean is not None:
            assert bool(parsed) is request.expected_boolean, response.text
    elif request.expected_format == "tabular":
        assert media in TABULAR_MEDIA, f"a tabular result came as {media}"
        if TABULAR_MEDIA[media] is not None:
            parsed = ox.parse_query_results(response.content, format=TABULAR_MEDIA[media])
            assert isinstance(parsed, ox.QuerySolutions), "expected solutions"
            list(parsed)
    elif request.expected_format == "RDF":
        assert media in RDF_MEDIA, f"an RDF result came as {media}"
        Graph().parse(data=response.content, format=RDF_MEDIA[media])


def is_update(request) -> bool:
    content_type = dict((k.lower(), v) for k, v in request.headers).get("content-type", "")
    return content_type.startswith("application/sparql-update") or (
        content_type.startswith("application/x-www-form-urlencoded") and (request.body or b"").startswith(b"update="))


def graph_has_data(server, graph: str) -> bool:
    response = server.client.get(server.endpoint, params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
                                 headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def params():
    if ROOT is None:
        return [pytest.param(None, id="w3c-suites-missing")]
    return [pytest.param(test, id=test.name) for test in TESTS]


@pytest.mark.parametrize("test", params())
def test_protocol(test, w3c_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    request.node.user_properties.append(("w3c_title", test.title))
    for graph in (g for _, g in test.graph_data):
        assert w3c_server.graphs.get(graph), f"the store lacks <{graph}>, which the test's dataset names"

    if test.name.startswith("update_"):
        first = test.requests[0]
        assert is_update(first), "an update_ test should start with an update request"
        response = send(w3c_server, first)
        assert response.status_code == 403, f"status {response.status_code}: {response.text[:300]}"
        assert "read-only" in response.text and "Writes are enabled" in response.text, response.text
        assert all(graph_has_data(w3c_server, graph) for graph in w3c_server.graphs
                   if graph.startswith("http://kasei.us/")), "a refused update changed the data"
        request.node.user_properties.append(("w3c_category", "refused"))
        request.node.user_properties.append(("w3c_note", "read-only endpoint: the update gets 403 (“Writes are "
                                             "enabled by an operator …”); its follow-up ASK is not sent"))
        return

    for step in test.requests:
        check_response(step, send(w3c_server, step))
