"""Reading the W3C SPARQL 1.1 test manifests (read in place from the shared folder; nothing is copied).

Where the suites are: $STATECRAFT_SHARED/w3c, else <repo>/../shared/w3c, else /work/shared/w3c.
Test modules build their parameters at import time, so finding the folder never raises: a missing
folder gives `None`, and `require_suites()` fails the test with a message saying where it looked.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection

ROOT = Path(__file__).resolve().parents[2]

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
EMPTY_GRAPH = "urn:x-statecraft:w3c:empty-default-graph"   # names no graph: as default-graph-uri, an empty default graph


def candidates() -> list[Path]:
    found = [Path(os.environ["STATECRAFT_SHARED"]) / "w3c"] if os.environ.get("STATECRAFT_SHARED") else []
    return found + [ROOT.parent / "shared" / "w3c", Path("/work/shared/w3c")]


def suites_root() -> Path | None:
    """The sparql/sparql11 folder of the shared W3C suites, or None if it is nowhere to be found."""
    for candidate in candidates():
        folder = candidate / "sparql" / "sparql11"
        if (folder / "manifest-sparql11-query.ttl").is_file() and (folder / "protocol" / "manifest.ttl").is_file():
            return folder.resolve()
    return None


def missing_message() -> str:
    return ("the W3C SPARQL 1.1 test suites were not found: set STATECRAFT_SHARED to the folder holding w3c/ "
            f"(looked for w3c/sparql/sparql11/ in {', '.join(map(str, candidates()))})")


def require_suites() -> Path:
    import pytest
    root = suites_root()
    if root is None:
        pytest.fail(missing_message(), pytrace=False)
    return root


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def url_path(url: str) -> Path:
    assert url.startswith("file:"), url
    return Path(unquote(urlsplit(url).path))


def parse_manifest(path: Path) -> Graph:
    return Graph().parse(path, format="turtle", publicID=file_url(path))


def _items(graph: Graph, head) -> list:
    return list(Collection(graph, head)) if head is not None else []


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


# --------------------------------------------------------------------------------------------
# Protocol manifest: ht:Request sequences with the expected responses
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str                               # as in the manifest: /sparql/?…
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    expected_status: tuple[int, ...]        # status classes: 2, 3, 4 …
    expected_format: str | None             # "boolean", "tabular", "RDF"
    expected_boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    name: str                               # the local name (query_post_form …)
    iri: str
    title: str
    requests: tuple[HttpRequest, ...]
    graph_data: tuple[tuple[str, str], ...]  # (file URL, graph IRI) the test expects in the dataset


def protocol_tests(root: Path) -> list[ProtocolTest]:
    path = root / "protocol" / "manifest.ttl"
    g = parse_manifest(path)
    manifest = URIRef(file_url(path))
    tests = []
    for entry in _items(g, g.value(manifest, MF.entries)):
        requests = []
        action = g.value(entry, MF.action)
        for request in _items(g, g.value(action, HT.requests)):
            headers = tuple((str(g.value(h, HT.fieldName)), str(g.value(h, HT.fieldValue)))
                            for h in _items(g, g.value(request, HT.headers)))
            body = g.value(request, HT.body)
            data = None
            if body is not None:
                encoding = str(g.value(body, CNT.characterEncoding) or "UTF-8")
                data = str(g.value(body, CNT.chars)).encode(encoding.lower())
            response = g.value(request, HT.resp)
            statuses = sorted(int(str(s)[len(HTS)]) for s in g.objects(response, MF.expectedStatus))
            expected_boolean = g.value(response, MF.expectedBoolean)
            expected_format = g.value(response, MF.expectedFormat)
            requests.append(HttpRequest(
                method=str(g.value(request, HT.methodName)), path=str(g.value(request, HT.absolutePath)),
                headers=headers, body=data, expected_status=tuple(statuses),
                expected_format=str(expected_format) if expected_format is not None else None,
                expected_boolean=expected_boolean.toPython() if expected_boolean is not None else None))
        graph_data = tuple(sorted((str(g.value(d, UT.graph)), str(g.value(d, RDFS.label)))
                                  for d in g.objects(entry, UT.graphData)))
        tests.append(ProtocolTest(_local(str(entry)), str(entry), str(g.value(entry, MF.name)),
                                  tuple(requests), graph_data))
    return tests


def protocol_graphs(root: Path) -> dict[str, str]:
    """Graph IRI → data file URL, for every graph a protocol test names (ut:graphData)."""
    graphs = {}
    for test in protocol_tests(root):
        for url, graph in test.graph_data:
            assert graphs.get(graph, url) == url, f"{graph} is given two different files"
            graphs[graph] = url
    return graphs


def service_description_tests(root: Path) -> list[tuple[str, str, str]]:
    path = root / "service-description" / "manifest.ttl"
    g = parse_manifest(path)
    return [(_local(str(e)), str(e), str(g.value(e, MF.name)))
            for e in _items(g, g.value(URIRef(file_url(path)), MF.entries))]


# --------------------------------------------------------------------------------------------
# Query manifests: evaluation and syntax tests
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueryTest:
    iri: str
    kind: str                                # QueryEvaluationTest, PositiveSyntaxTest11, …
    name: str
    suite: str                               # the folder: aggregates, bind, …
    query: str                               # file URL of the query
    data: tuple[str, ...] = ()               # file URLs: the default graph
    graph_data: tuple[str, ...] = ()         # file URLs: the named graphs, each named by its URL
    result: str | None = None                # file URL of the expected result
    service_data: tuple[tuple[str, str], ...] = ()   # (endpoint, file URL): SERVICE tests
    approval: str | None = None
    lax_cardinality: bool = False
    features: tuple[str, ...] = field(default=())

    @property
    def query_path(self) -> Path:
        return url_path(self.query)


TOP_MANIFESTS = ("manifest-sparql11-query.ttl", "manifest-sparql11-results.ttl", "manifest-sparql11-fed.ttl")


def included_manifests(root: Path, top: str) -> list[Path]:
    path = root / top
    g = parse_manifest(path)
    return [url_path(str(m)) for head in g.objects(URIRef(file_url(path)), MF.include) for m in _items(g, head)]


def query_tests(root: Path, top: str) -> list[QueryTest]:
    tests = []
    for path in included_manifests(root, top):
        if "entailment" in path.parts:        # entailment regimes are out of scope (and not in these manifests)
            continue
        g = parse_manifest(path)
        for head in g.objects(URIRef(file_url(path)), MF.entries):
            for entry in _items(g, head):
                kind = _local(str(g.value(entry, RDF.type)))
                action = g.value(entry, MF.action)
                result = g.value(entry, MF.result)
                common = dict(iri=str(entry), kind=kind, name=str(g.value(entry, MF.name)), suite=path.parent.name,
                              result=str(result) if result is not None else None,
                              approval=_local(str(g.value(entry, DAWGT.approval) or "")) or None,
                              lax_cardinality=g.value(entry, MF.resultCardinality) == MF.LaxCardinality,
                              features=tuple(sorted(str(f) for f in g.objects(entry, MF.feature))))
                if isinstance(action, URIRef):   # syntax tests: the action is the query file
                    tests.append(QueryTest(query=str(action), **common))
                else:
                    tests.append(QueryTest(
                        query=str(g.value(action, QT.query)),
                        data=tuple(sorted(str(d) for d in g.objects(action, QT.data))),
                        graph_data=tuple(sorted(str(d) for d in g.objects(action, QT.graphData))),
                        service_data=tuple(sorted((str(g.value(s, QT.endpoint)), str(g.value(s, QT.data)))
                                                  for s in g.objects(action, QT.serviceData))),
                        **common))
    return tests


# --------------------------------------------------------------------------------------------
# Graph Store Protocol manifests (graph-store-protocol/manifest.ttl and the manifests it includes)
# --------------------------------------------------------------------------------------------

HTS_NAMESPACE = "http://www.w3.org/2011/http-statusCodes#"
GSP_FOLDER = "graph-store-protocol"


def status_expectation(iri: str) -> str:
    """An hts: term as what a status must match: a class ("2xx", from hts:StatusCode2xx) or a code
    ("201", from hts:Created; the names are those of http.HTTPStatus in CamelCase)."""
    from http import HTTPStatus
    assert iri.startswith(HTS_NAMESPACE), f"not an hts: status term: {iri}"
    name = iri[len(HTS_NAMESPACE):]
    if name.startswith("StatusCode") and name.endswith("xx"):
        return name[len("StatusCode"):]
    constant = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).upper()
    try:
        return str(HTTPStatus[constant].value)
    except KeyError:
        raise ValueError(f"unknown hts: status name {name!r}") from None


def status_matches(status: int, expected: frozenset[str]) -> bool:
    return str(status) in expected or f"{status // 100}xx" in expected


@dataclass(frozen=True)
class GraphStoreRequest:
    method: str
    path: str                                   # as in the manifest: /gsp/… or /gsp?…
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    expected_status: frozenset[str]             # codes ("201") and classes ("2xx"); any one will do
    expected_location: str | None               # a template variable ($LOCATION$) for the Location header's value
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes | None                 # RDF in the response's declared Content-Type, to compare as a graph


@dataclass(frozen=True)
class GraphStoreTest:
    name: str                                   # the local name (put_get_repeat_direct …)
    iri: str
    title: str
    manifest: str                               # the file that defines it (manifest-direct.ttl …)
    requires: tuple[str, ...]                   # mf:requires features: DirectGraphIdentification …
    requests: tuple[GraphStoreRequest, ...]
    listed: bool = True                         # False: defined in the manifest but not in its mf:entries


def _body(g: Graph, node) -> bytes | None:
    body = g.value(node, HT.body)
    if body is None:
        return None
    encoding = str(g.value(body, CNT.characterEncoding) or "UTF-8")
    return str(g.value(body, CNT.chars)).encode(encoding.lower())


def _headers(g: Graph, node) -> tuple[tuple[str, str], ...]:
    return tuple((str(g.value(h, HT.fieldName)), str(g.value(h, HT.fieldValue)))
                 for h in _items(g, g.value(node, HT.headers)))


def graph_store_tests(root: Path) -> list[GraphStoreTest]:
    """Every mf:GraphStoreProtocolTest of the manifests graph-store-protocol/manifest.ttl includes, in
    mf:entries order; then any test a manifest defines without listing it in its mf:entries."""
    top = root / GSP_FOLDER / "manifest.ttl"
    g = parse_manifest(top)
    paths = [url_path(str(m)) for head in g.objects(URIRef(file_url(top)), MF.include) for m in _items(g, head)]
    tests = []
    for path in paths:
        g = parse_manifest(path)
        listed = [entry for head in g.objects(URIRef(file_url(path)), MF.entries) for entry in _items(g, head)]
        defined = sorted(set(g.subjects(RDF.type, MF.GraphStoreProtocolTest)) - set(listed), key=str)
        for entry in listed + defined:
            requests = []
            for request in _items(g, g.value(g.value(entry, MF.action), HT.requests)):
                response = g.value(request, HT.resp)
                location = g.value(response, MF.expectedLocation)
                requests.append(GraphStoreRequest(
                    method=str(g.value(request, HT.methodName)), path=str(g.value(request, HT.absolutePath)),
                    headers=_headers(g, request), body=_body(g, request),
                    expected_status=frozenset(status_expectation(str(s))
                                              for s in g.objects(response, MF.expectedStatus)),
                    expected_location=str(location) if location is not None else None,
                    response_headers=_headers(g, response), response_body=_body(g, response)))
            tests.append(GraphStoreTest(
                name=_local(str(entry)), iri=str(entry), title=str(g.value(entry, MF.name)), manifest=path.name,
                requires=tuple(sorted(_local(str(f)) for f in g.objects(entry, MF.requires))),
                requests=tuple(requests), listed=entry in listed))
    return tests


# --------------------------------------------------------------------------------------------
# Update evaluation tests (mf:UpdateEvaluationTest of the manifests manifest-sparql11-update.ttl includes)
# --------------------------------------------------------------------------------------------

UPDATE_MANIFEST = "manifest-sparql11-update.ttl"


@dataclass(frozen=True)
class UpdateDataset:
    """A graph store, as a test's action or result gives it: ut:data (the default graph, file URLs) and
    ut:graphData (graph IRI from rdfs:label → file URLs, merged if a graph is given more than once)."""
    data: tuple[str, ...] = ()
    graphs: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def graph_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.graphs)


@dataclass(frozen=True)
class UpdateEvaluationTest:
    iri: str
    kind: str                                   # UpdateEvaluationTest, or NegativeSyntaxTest11 (the mf:action is the .ru)
    name: str
    comment: str
    suite: str                                  # the folder: add, basic-update, …
    request: str                                # file URL of the update
    action: UpdateDataset
    result: UpdateDataset | None                # None: no mf:result at all
    result_status: str | None                   # ut:result's local name (success, failure …), if given
    approval: str | None = None

    @property
    def request_path(self) -> Path:
        return url_path(self.request)

    @property
    def expects_failure(self) -> bool:
        """The update must be refused: a negative syntax test, no mf:result, or ut:result other than ut:success."""
        return (self.kind.startswith("Negative") or self.result is None
                or (self.result_status is not None and self.result_status != "success"))


def _update_dataset(g: Graph, node) -> UpdateDataset:
    data = tuple(sorted(str(d) for d in g.objects(node, UT.data)))
    graphs: dict[str, list[str]] = {}
    for entry in g.objects(node, UT.graphData):
        label, url = g.value(entry, RDFS.label), g.value(entry, UT.graph)
        assert label is not None and url is not None, f"a ut:graphData without rdfs:label or ut:graph in {node}"
        graphs.setdefault(str(label), []).append(str(url))
    return UpdateDataset(data, tuple(sorted((k, tuple(sorted(v))) for k, v in graphs.items())))


def update_evaluation_tests(root: Path) -> list[UpdateEvaluationTest]:
    """Every mf:UpdateEvaluationTest of the manifests manifest-sparql11-update.ttl includes, in mf:entries
    order, and the mf:NegativeSyntaxTest11 entries of those same manifests (delete-insert has some; the
    syntax-update-* manifests' own Positive/NegativeUpdateSyntaxTest11 are not included: see
    test_update_syntax.py)."""
    tests = []
    for path in included_manifests(root, UPDATE_MANIFEST):
        g = parse_manifest(path)
        for head in g.objects(URIRef(file_url(path)), MF.entries):
            for entry in _items(g, head):
                kind = _local(str(g.value(entry, RDF.type)))
                if kind not in ("UpdateEvaluationTest", "NegativeSyntaxTest11"):
                    continue
                action = g.value(entry, MF.action)
                result = g.value(entry, MF.result)
                status = g.value(result, UT.result) if result is not None else None
                common = dict(iri=str(entry), kind=kind, name=str(g.value(entry, MF.name) or ""),
                              comment=str(g.value(entry, RDFS.comment) or ""), suite=path.parent.name,
                              approval=_local(str(g.value(entry, DAWGT.approval) or "")) or None)
                if isinstance(action, URIRef):   # a syntax test: the action is the update file
                    tests.append(UpdateEvaluationTest(request=str(action), action=UpdateDataset(), result=None,
                                                      result_status=None, **common))
                else:
                    tests.append(UpdateEvaluationTest(
                        request=str(g.value(action, UT.request)), action=_update_dataset(g, action),
                        result=_update_dataset(g, result) if result is not None else None,
                        result_status=_local(str(status)) if status is not None else None, **common))
    return tests
