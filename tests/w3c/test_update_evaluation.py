"""The W3C SPARQL 1.1 Update evaluation tests (the mf:UpdateEvaluationTest entries of the manifests
manifest-sparql11-update.ttl includes: add, basic-update, clear, copy, delete, delete-data,
delete-insert, delete-where, drop, move, update-silent), over HTTP on the write-enabled server
(fixture `w3c_write_server`, the curator's token on every request).

For each test:

1. an empty store: DROP ALL through the server (its own graphs, the journal and the inferences, stay
   and are ignored throughout);
2. the action's graph store, in the same update as the DROP ALL: INSERT DATA with the ut:data and each
   ut:graphData (each file parsed by pyoxigraph with its own file:// URL as base, written as N-Triples
   terms, so that `<>` in clear/ and drop/ data means the same IRI on both sides), and CREATE GRAPH for
   an empty one; the store is then checked against the action before the update is sent;
3. the update, POSTed as application/sparql-update; it must get 2xx;
4. the result: the stored default graph (GET /data?default) and every named graph the mf:result lists
   (GET /data?graph=…) must be isomorphic (rdflib.compare, literals kept in their lexical forms) to the
   expected files; and the named graphs in the store (SELECT DISTINCT ?g WHERE { GRAPH ?g {} }, which
   also lists empty graphs, minus the server's own) must be those the result lists.

An expected *empty* named graph (clear/empty.ttl after CLEAR GRAPH or CLEAR NAMED) may be absent or
present and empty: SPARQL 1.1 Update lets a store that does not record empty graphs drop them (§3.1.3
"CLEAR … removes all the triples"; graph stores "may" keep empty graphs), so either is accepted, and a
passing test's note says which it saw. The converse is strict: a named graph the result does not list
must not exist at all, even empty (DROP must remove the graph, not just its triples).

Tests whose result is a failure (no mf:result, or a ut:result other than ut:success) must get a 4xx and
leave the store as the action gave it; none of the evaluation tests is of that kind, but the
delete-insert manifest lists mf:NegativeSyntaxTest11 entries (blank nodes or unbound variables in
DELETE templates, which no other W3C module runs), and they are run here: they must get 400, and the
store must be unchanged.

LOAD is refused by design (the server reads no URL and no local file): the two LOAD SILENT tests pass by
asserting the 403 and an unchanged store, and are recorded as refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from .manifest import missing_message, suites_root, update_evaluation_tests, url_path

SUITE = "Update evaluation"
ROOT = suites_root()
TESTS = update_evaluation_tests(ROOT) if ROOT else []
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
LIST_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"
UPDATE_TYPE = "application/sparql-update; charset=utf-8"
NT = "application/n-triples"


# --------------------------------------------------------------------------------------------
# Graphs: pyoxigraph parses (lexical forms as written), rdflib compares
# --------------------------------------------------------------------------------------------

def _term(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language, normalize=False)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype in (XSD_STRING, RDF_LANG_STRING) else URIRef(datatype),
                       normalize=False)
    raise TypeError(f"unexpected term {term!r}")


def to_graph(triples) -> Graph:
    graph = Graph()
    for t in triples:
        graph.add((_term(t.subject), _term(t.predicate), _term(t.object)))
    return graph


def file_triples(urls: tuple[str, ...]) -> list:
    """The triples of the files (file URLs), each parsed with its URL as base; blank nodes kept apart per file."""
    triples = []
    for url in urls:
        triples += [q.triple for q in ox.parse(path=str(url_path(url)), base_iri=url, rename_blank_nodes=True)]
    return triples


def describe(graph: Graph) -> str:
    return "\n    ".join(sorted(line for line in graph.serialize(format="nt").splitlines() if line)) or "(no triples)"


def compare(got: Graph, expected: Graph, what: str) -> str | None:
    if isomorphic(got, expected):
        return None
    _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(got))
    return (f"{what}: not the expected graph ({len(got)} triples, expected {len(expected)}).\n"
            f"  missing:\n    {describe(missing)}\n  unexpected:\n    {describe(extra)}")


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

def own_graphs() -> set[str]:
    from statecraft.curation import PROTECTED
    return set(PROTECTED)


def graph_url(server, graph: str | None) -> str:
    return f"{server.graph_store}?default" if graph is None else f"{server.graph_store}?graph={quote(graph, safe='')}"


def named_graphs(server) -> set[str]:
    """The named graphs in the store, empty ones included, but for the server's own."""
    response = server.client.get(server.endpoint, params={"query": LIST_GRAPHS},
                                 headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, f"{LIST_GRAPHS}: status {response.status_code}: {response.text[:500]}"
    return {row["g"]["value"] for row in response.json()["results"]["bindings"]} - own_graphs()


def fetch(server, graph: str | None) -> tuple[int, Graph | None]:
    """(status, the graph) of GET /data?default or ?graph=…; the graph is None unless the status is 200."""
    response = server.client.get(graph_url(server, graph), headers={"Accept": NT})
    if response.status_code != 200:
        assert response.status_code == 404, (f"GET {graph_url(server, graph)}: status {response.status_code}: "
                                              f"{response.text[:500]}")
        return 404, None
    return 200, to_graph(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))


def check_store(server, dataset, when: str) -> list[str]:
    """What differs between the store and `dataset` (a manifest's ut:data / ut:graphData); notes on empty graphs
    are returned too, prefixed with "note: "."""
    problems, notes = [], []
    status, default = fetch(server, None)
    assert status == 200, "GET /data?default: 404"
    problem = compare(default, to_graph(file_triples(dataset.data)), f"{when}: the default graph")
    if problem:
        problems.append(problem)
    expected = {graph: to_graph(file_triples(urls)) for graph, urls in dataset.graphs}
    present = named_graphs(server)
    for graph, want in expected.items():
        status, got = fetch(server, graph)
        if len(want) == 0:
            if graph in present:
                if got is not None and len(got):
                    problems.append(compare(got, want, f"{when}: <{graph}>"))
                else:
                    notes.append(f"<{graph}> (expected empty) is there, empty"
                                 + (" (GET ?graph= answers 404)" if status == 404 else ""))
            elif got is not None and len(got):
                problems.append(f"{when}: <{graph}> is not listed by GRAPH ?g {{}} but GET gives {len(got)} triples")
            else:
                notes.append(f"<{graph}> (expected empty) is absent")
            continue
        if graph not in present:
            problems.append(f"{when}: <{graph}> is not in the store (GRAPH ?g {{}} does not list it; GET: {status}); "
                            f"expected {len(want)} triples:\n    {describe(want)}")
        elif got is None:
            problems.append(f"{when}: GET {graph_url(server, graph)} answers 404, though GRAPH ?g {{}} lists it")
        else:
            problem = compare(got, want, f"{when}: <{graph}>")
            if problem:
                problems.append(problem)
    for graph in sorted(present - set(expected)):
        status, got = fetch(server, graph)
        problems.append(f"{when}: <{graph}> is in the store but not in the expected result "
                        f"({'empty' if got is None or not len(got) else f'{len(got)} triples'}):\n    "
                        + (describe(got) if got is not None else "(GET answers 404)"))
    return problems + [f"note: {n}" for n in notes]


def set_up(server, test) -> None:
    """DROP ALL and the action's graph store, in one update (one write instead of one per graph)."""
    operations = ["DROP ALL"]
    data = [f"{t.subject} {t.predicate} {t.object} ." for t in file_triples(test.action.data)] \
        if test.action.data else []
    for graph, urls in test.action.graphs:
        triples = file_triples(urls)
        if triples:
            data.append(f"GRAPH <{graph}> {{ " + " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples) + " }")
        else:
            operations.append(f"CREATE SILENT GRAPH <{graph}>")
    if data:
        operations.append("INSERT DATA { " + "\n".join(data) + " }")
    response = server.client.post(server.endpoint, content=" ;\n".join(operations).encode("utf-8"),
                                  headers={"Content-Type": UPDATE_TYPE})
    assert response.is_success, f"setting up: status {response.status_code}: {response.text[:500]}"
    problems = [p for p in check_store(server, test.action, "after setting up the action's graph store")
                if not p.startswith("note: ")]
    assert not problems, "\n".join(problems)


def is_load(text: str) -> bool:
    """A LOAD operation (the suite's .ru files have no comments or strings that would fool this)."""
    return re.search(r"(?im)^\s*LOAD\b", text) is not None


def params():
    if ROOT is None:
        return [pytest.param(None, id="w3c-suites-missing")]
    return [pytest.param(test, id=test.iri) for test in TESTS]


@pytest.mark.parametrize("test", params())
def test_update_evaluation(test, w3c_write_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    server = w3c_write_server
    request.node.user_properties.append(("w3c_title", test.name + (f": {test.comment}" if test.comment else "")))
    text = test.request_path.read_text(encoding="utf-8")
    set_up(server, test)
    response = server.client.post(server.endpoint, content=text.encode("utf-8"), headers={"Content-Type": UPDATE_TYPE})
    where = f"POST /sparql\n{text.strip()}\n→ {response.status_code}: {response.text[:500]}"

    if is_load(text):
        assert response.status_code == 403 and "LOAD is refused" in response.text, (
            f"LOAD must be refused by design (403, “LOAD is refused …”): {where}")
        problems = [p for p in check_store(server, test.action, "after the refused LOAD") if not p.startswith("note: ")]
        assert not problems, "\n".join(problems)
        request.node.user_properties.append(("w3c_category", "refused"))
        request.node.user_properties.append(("w3c_note", "LOAD is refused by design (403: the server reads no URL and "
                                             "no local file); the store is unchanged"))
        return

    if test.expects_failure:
        if test.kind.startswith("Negative"):
            assert response.status_code == 400, f"a malformed update must get 400: {where}"
        else:
            assert 400 <= response.status_code < 500, f"the update must fail with a 4xx: {where}"
        problems = [p for p in check_store(server, test.action, "after the refused update") if not p.startswith("note: ")]
        assert not problems, "\n".join(problems)
        return

    assert response.is_success, f"the update must succeed: {where}"
    found = check_store(server, test.result, "after the update")
    problems = [p for p in found if not p.startswith("note: ")]
    if problems:
        pytest.fail(f"{test.iri}\n{where}\n" + "\n".join(problems), pytrace=False)
    notes = [p[len("note: "):] for p in found]
    if notes:
        request.node.user_properties.append(("w3c_note", "; ".join(notes)))


def test_the_update_evaluation_suite_is_there():
    assert ROOT is not None, missing_message()
    kinds = [t.kind for t in TESTS]
    assert kinds.count("UpdateEvaluationTest") >= 90 and kinds.count("NegativeSyntaxTest11") >= 8, kinds
