"""The W3C SPARQL 1.1 query test suites, every test through the HTTP endpoint.

Manifests: manifest-sparql11-query.ttl (evaluation and syntax tests), manifest-sparql11-results.ttl
(CSV / TSV / JSON result formats) and manifest-sparql11-fed.ttl (SERVICE). The entailment-regime
tests (entailment/) are excluded entirely.

- Syntax tests: the query file is POSTed as it is; a negative test must get 400, a positive one must
  not (it is evaluated over an empty dataset, so it must get 200).
- Evaluation tests: the test's dataset is in the session store (conftest.py), each data file a
  named graph called by its file:// URL. The query is sent with `BASE <its file URL>` in front (the
  suite resolves a query's relative IRIs against its own location) and, unless it has FROM / FROM
  NAMED of its own, with default-graph-uri = its qt:data (or a graph that does not exist: an empty
  default graph) and named-graph-uri = each qt:graphData. The result is asked for in the expected
  result's format (XML for .srx, JSON for .srj, TSV, CSV; N-Triples for graphs) and compared as the
  suites mean it (results.py): solutions as multisets with blank-node isomorphism, in order only
  where the query has a top-level ORDER BY; booleans; graphs by isomorphism; literals term by term,
  else by value as the suite prescribes (a pass "by value" is reported as such).
- SERVICE tests (service/, syntax-fed/): the endpoint makes no outbound requests unless an operator
  allow-lists the host, so each must get 403 saying so: listed as refused by design.

Known failures are in KNOWN_FAILURES, each with its reason, as strict xfails: the test asserts that
the failure still happens, and a fix turns it into a failure to remove from the list.
"""

from __future__ import annotations

import pytest

from .manifest import EMPTY_GRAPH, TOP_MANIFESTS, missing_message, query_tests, suites_root
from .results import (RESULT_MEDIA, compare, expected_kind, has_top_level_order_by, load_actual, load_expected,
                      uses_dataset_clause)

SUITE = "Query evaluation"
ROOT = suites_root()
TESTS = [test for top in TOP_MANIFESTS for test in query_tests(ROOT, top)] if ROOT else []

M = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
OXIGRAPH_SKIPS = "Oxigraph also skips it (oxigraph/oxigraph testsuite/tests/sparql.rs)"
GRAPH_SCOPE = f"{OXIGRAPH_SKIPS}, as “our scoping of variables introduced by GRAPH is wrong”"
ZERO_LENGTH = (f"{OXIGRAPH_SKIPS}, as “our property path handling is wrong”: a zero-length path (* or ?) with a "
               "constant end must match that constant even on an empty dataset; Oxigraph returns no solution")

# Every test of the suites that does not pass, and why (keys: the tests' manifest IRIs). Each is a
# strict xfail: the test asserts the failure still happens.
KNOWN_FAILURES: dict[str, str] = {
    M + "negation/manifest#graph-minus": GRAPH_SCOPE,
    M + "aggregates/manifest#agg-empty-group-count-graph": GRAPH_SCOPE,
    M + "bindings/manifest#graph": GRAPH_SCOPE,
    M + "property-path/manifest#zero_or_more_set_start": ZERO_LENGTH,
    M + "property-path/manifest#zero_or_more_set_end": ZERO_LENGTH,
    M + "property-path/manifest#zero_or_one_set_start": ZERO_LENGTH,
    M + "property-path/manifest#zero_or_one_set_end": ZERO_LENGTH,
    M + "aggregates/manifest#agg-groupconcat-04": (
        "Oxigraph 0.5.13 keeps the shared language tag in GROUP_CONCAT (\"1 2\"@en); the test expects the simple "
        "literal SPARQL 1.1 defines. Not in the Oxigraph runner's exclusions, but its engine gives the same answer"),
    M + "aggregates/manifest#agg-groupconcat-06": (
        "Oxigraph 0.5.13 keeps the language tag of GROUP_CONCAT over one literal (\"1\"@en); the test expects a "
        "simple literal. Same engine behaviour as agg-groupconcat-04"),
    M + "functions/manifest#bnode01": (
        "Oxigraph gives BNODE(\"foo\") the same blank node in different solutions; SPARQL 1.1 wants a fresh one per "
        "solution. This harness matches blank nodes across the whole result; Oxigraph's runner matches them one "
        "solution at a time, so it counts this as a pass"),
    M + "csv-tsv-res/manifest#csv03": (
        "Oxigraph stores numbers in canonical form (\"1.0e6\"^^xsd:double comes back as 1000000); CSV carries only "
        "the lexical form, so the value cannot be compared by value. Oxigraph's runner does not run the CSV tests"),
    M + "csv-tsv-res/manifest#tsv03": (
        "Oxigraph's store turns every derived integer type into xsd:integer (\"-3\"^^xsd:negativeInteger comes back "
        "as \"-3\"^^xsd:integer): a real datatype loss. Oxigraph's runner passes expected results through its own "
        "store first, which hides it"),
}

SYNTAX = {"PositiveSyntaxTest11": True, "PositiveSyntaxTest": True,
          "NegativeSyntaxTest11": False, "NegativeSyntaxTest": False}
EVALUATION = ("QueryEvaluationTest", "CSVResultFormatTest")
BY_VALUE_NOTE = ("equal by value: numeric or boolean literals differ only in lexical form (the suite's rule: "
                 "literals are compared by value)")
SERVICE_NOTE = ("SERVICE is refused by design (403): the endpoint makes no outbound requests unless an operator "
                "allow-lists the host (STATECRAFT_ALLOW_SERVICE_HOSTS)")


def params():
    if ROOT is None:
        return [pytest.param(None, id="w3c-suites-missing")]
    out = []
    for test in TESTS:
        marks = []
        if test.iri in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[test.iri]))
        out.append(pytest.param(test, id=test.iri, marks=marks))
    return out


def post_query(server, text: bytes, accept: str, default=None, named=None):
    params = [("default-graph-uri", g) for g in default or ()] + [("named-graph-uri", g) for g in named or ()]
    return server.client.post(server.endpoint, params=params, content=text,
                              headers={"Content-Type": "application/sparql-query", "Accept": accept})


def is_service_refusal(response) -> bool:
    return response.status_code == 403 and "SERVICE" in response.text and "allow-list" in response.text


@pytest.mark.parametrize("test", params())
def test_query(test, w3c_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    request.node.user_properties.append(("w3c_title", test.name))
    text = test.query_path.read_bytes()
    accept = "application/sparql-results+json, application/n-triples;q=0.9"

    if test.suite == "service" or test.service_data:
        response = post_query(w3c_server, text, accept, default=[EMPTY_GRAPH])
        assert is_service_refusal(response), f"{response.status_code}: {response.text[:300]}"
        request.node.user_properties += [("w3c_category", "refused"), ("w3c_note", SERVICE_NOTE)]
        return

    if test.kind in SYNTAX:
        response = post_query(w3c_server, text, accept, default=[EMPTY_GRAPH])
        if SYNTAX[test.kind]:
            if is_service_refusal(response):
                request.node.user_properties += [("w3c_category", "refused"), ("w3c_note", SERVICE_NOTE)]
                return
            assert response.status_code == 200, f"a valid query got {response.status_code}: {response.text[:400]}"
        else:
            assert response.status_code == 400, (f"an invalid query got {response.status_code}, expected 400: "
                                                 f"{response.text[:300]}")
        return

    assert test.kind in EVALUATION, f"unknown test type {test.kind}"
    query = test.query_path.read_text(encoding="utf-8")
    expected = load_expected(test.result)
    accept = expected_kind(test.result)
    body = f"BASE <{test.query}>\n{query}".encode("utf-8")
    if uses_dataset_clause(query):
        response = post_query(w3c_server, body, accept)
    else:
        response = post_query(w3c_server, body, accept, default=list(test.data) or [EMPTY_GRAPH],
                              named=list(test.graph_data))
    assert response.status_code == 200, f"{response.status_code}: {response.text[:400]}"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    assert media == accept, f"asked for {accept}, got {media}"
    actual = load_actual(response.content, response.headers.get("content-type", ""))
    ordered = has_top_level_order_by(query) and test.result.rsplit(".", 1)[-1] in RESULT_MEDIA
    outcome = compare(expected, actual, ordered, test.lax_cardinality)
    assert outcome is not None, (f"results differ{' (in order)' if ordered else ''}\nexpected: {expected.describe()}\n"
                                 f"actual:   {actual.describe()}")
    if outcome == "by value":
        request.node.user_properties.append(("w3c_note", BY_VALUE_NOTE))


def test_known_failures_are_tests_of_the_suites():
    """A mistyped IRI in KNOWN_FAILURES would mark nothing: every key must name a test that runs."""
    if ROOT is None:
        pytest.fail(missing_message(), pytrace=False)
    unknown = set(KNOWN_FAILURES) - {test.iri for test in TESTS}
    assert not unknown, f"KNOWN_FAILURES names tests the manifests do not have: {sorted(unknown)}"
