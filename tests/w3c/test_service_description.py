"""The W3C SPARQL 1.1 Service Description suite (service-description/manifest.ttl).

GET /sparql with no query must describe the service in RDF. Each of the manifest's three tests is
run on the description fetched as Turtle, RDF/XML, JSON-LD and N-Triples, each parsed with rdflib:

- returns-rdf: the response is RDF of the requested kind, and not empty;
- has-endpoint-triple: an sd:Service whose sd:endpoint is the very URL that was fetched;
- conforms-to-schema: the sd: vocabulary is used as the Service Description spec defines it
  (every sd: term is one the spec defines; sd:supportedLanguage, sd:resultFormat, sd:feature,
  sd:defaultDataset → sd:Dataset with one sd:defaultGraph and sd:namedGraph → sd:NamedGraph with one
  IRI sd:name and an sd:Graph), and the named graphs listed are the graphs of the store.
"""

from __future__ import annotations

import pytest
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef

from .manifest import missing_message, service_description_tests, suites_root

SUITE = "Service Description"
ROOT = suites_root()
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = "http://www.w3.org/ns/formats/"

SYNTAXES = {"turtle": ("text/turtle", "turtle"), "rdfxml": ("application/rdf+xml", "xml"),
            "jsonld": ("application/ld+json", "json-ld"), "ntriples": ("application/n-triples", "nt")}

# The terms of https://www.w3.org/ns/sparql-service-description (SPARQL 1.1 Service Description §3).
SD_CLASSES = {"Service", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile",
              "GraphCollection", "Dataset", "Graph", "NamedGraph", "Feature"}
SD_PROPERTIES = {"endpoint", "feature", "defaultEntailmentRegime", "defaultSupportedEntailmentProfile",
                 "supportedEntailmentProfile", "entailmentRegime", "extensionFunction", "extensionAggregate",
                 "languageExtension", "supportedLanguage", "propertyFeature", "defaultDataset", "availableGraphs",
                 "resultFormat", "inputFormat", "defaultGraph", "namedGraph", "name", "graph"}
SD_INDIVIDUALS = {"SPARQL10Query", "SPARQL11Query", "SPARQL11Update", "DereferencesURIs", "UnionDefaultGraph",
                  "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery"}
LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
FEATURES = {SD[name] for name in ("DereferencesURIs", "UnionDefaultGraph", "RequiresDataset", "EmptyGraphs",
                                  "BasicFederatedQuery")}


def fetch(server, syntax: str) -> tuple[Graph, str, object]:
    media, rdflib_format = SYNTAXES[syntax]
    response = server.client.get(server.endpoint, headers={"Accept": media})
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].split(";")[0].strip() == media, response.headers["content-type"]
    graph = Graph().parse(data=response.content, format=rdflib_format, publicID=server.endpoint)
    return graph, str(response.request.url), response


def services(graph: Graph, endpoint: str) -> list:
    return [s for s in graph.subjects(RDF.type, SD.Service) if (s, SD.endpoint, URIRef(endpoint)) in graph]


def check_returns_rdf(graph: Graph, endpoint: str, server) -> None:
    assert len(graph) > 0, "the description is empty"
    assert any(graph.subjects(RDF.type, SD.Service)), "the description has no sd:Service"


def check_has_endpoint_triple(graph: Graph, endpoint: str, server) -> None:
    assert endpoint == server.endpoint
    assert services(graph, endpoint), f"no sd:Service with sd:endpoint <{endpoint}>"


def one(graph: Graph, subject, predicate):
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, f"{subject} has {len(values)} {predicate.n3(graph.namespace_manager)}, expected one"
    return values[0]


def check_conforms_to_schema(graph: Graph, endpoint: str, server) -> None:
    for s, p, o in graph:
        for t in (s, p, o):
            if isinstance(t, URIRef) and str(t).startswith(str(SD)):
                local = str(t)[len(str(SD)):]
                assert local in SD_CLASSES | SD_PROPERTIES | SD_INDIVIDUALS, f"{t} is not a term of the sd: vocabulary"
        if p == RDF.type and str(o).startswith(str(SD)):
            assert str(o)[len(str(SD)):] in SD_CLASSES, f"{o} used as a class"
        if str(p).startswith(str(SD)):
            assert str(p)[len(str(SD)):] in SD_PROPERTIES, f"{p} used as a property"
            assert not isinstance(s, Literal), f"a literal subject of {p}"

    (service,) = services(graph, endpoint)
    for value in graph.objects(service, SD.endpoint):
        assert isinstance(value, URIRef), f"sd:endpoint {value!r} is not an IRI"
    languages = set(graph.objects(service, SD.supportedLanguage))
    assert SD.SPARQL11Query in languages, "sd:supportedLanguage lacks sd:SPARQL11Query"
    assert languages <= LANGUAGES, f"unknown languages {languages - LANGUAGES}"
    assert SD.SPARQL11Update not in languages, "a read-only endpoint must not claim sd:SPARQL11Update"
    formats = set(graph.objects(service, SD.resultFormat))
    assert formats, "no sd:resultFormat"
    for value in formats:
        assert isinstance(value, URIRef) and str(value).startswith(FORMATS), f"sd:resultFormat {value} is not a " \
                                                                              "W3C format IRI"
    for required in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                     "Turtle", "N-Triples", "RDF_XML", "JSON-LD"):
        assert URIRef(FORMATS + required) in formats, f"sd:resultFormat lacks formats:{required}"
    for feature in graph.objects(service, SD.feature):
        assert isinstance(feature, URIRef), f"sd:feature {feature!r} is not an IRI"
        if str(feature).startswith(str(SD)):
            assert feature in FEATURES, f"{feature} is not an sd:Feature"

    dataset = one(graph, service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in graph, "the sd:defaultDataset is not typed sd:Dataset"
    default = one(graph, dataset, SD.defaultGraph)
    assert (default, RDF.type, SD.Graph) in graph, "the sd:defaultGraph is not typed sd:Graph"
    names = []
    for named in graph.objects(dataset, SD.namedGraph):
        assert (named, RDF.type, SD.NamedGraph) in graph, f"sd:namedGraph {named} is not typed sd:NamedGraph"
        name = one(graph, named, SD.name)
        assert isinstance(name, URIRef), f"sd:name {name!r} is not an IRI"
        described = one(graph, named, SD.graph)
        assert isinstance(described, (URIRef, BNode))
        assert (described, RDF.type, SD.Graph) in graph, f"the sd:graph of {name} is not typed sd:Graph"
        names.append(str(name))
    assert len(names) == len(set(names)), "a graph is listed twice"
    loaded = {graph_iri for graph_iri, triples in server.graphs.items() if triples}
    assert set(names) == loaded, f"named graphs listed ≠ graphs in the store: {sorted(set(names) ^ loaded)[:5]}"


CHECKS = {"returns-rdf": check_returns_rdf, "has-endpoint-triple": check_has_endpoint_triple,
          "conforms-to-schema": check_conforms_to_schema}


def params():
    if ROOT is None:
        return [pytest.param(None, None, id="w3c-suites-missing")]
    tests = service_description_tests(ROOT)
    assert {name for name, _, _ in tests} == set(CHECKS), "the manifest's tests changed"
    return [pytest.param(test, syntax, id=f"{test[0]}-{syntax}") for test in tests for syntax in SYNTAXES]


@pytest.mark.parametrize("test,syntax", params())
def test_service_description(test, syntax, w3c_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    name, _iri, title = test
    request.node.user_properties.append(("w3c_title", title))
    graph, endpoint, _ = fetch(w3c_server, syntax)
    CHECKS[name](graph, endpoint, w3c_server)
