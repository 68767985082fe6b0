"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/)."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from .namespaces import VOID, bind_prefixes
from .settings import Settings

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads")


def service_description_graph(endpoint: str, counts: dict[str, int], settings: Settings) -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = URIRef(endpoint)  # the service is identified by its endpoint; a description fetched there names it
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, URIRef(endpoint)))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for name in RESULT_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[name]))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    if settings.allow_service_hosts:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    graph.add((service, DCTERMS.title, Literal("Statecraft SPARQL endpoint", lang="en")))
    graph.add((service, DCTERMS.description, Literal(
        f"Read-only SPARQL 1.1 endpoint. Queries stop after {settings.query_timeout:g} s; results above "
        f"{settings.max_result_bytes} bytes are refused; the default graph is the union of all named graphs.",
        lang="en")))

    dataset = BNode("dataset")
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, VOID.triples, Literal(sum(counts.values()))))
    default = BNode("default-graph")
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, VOID.triples, Literal(sum(counts.values()))))
    for name, triples in sorted(counts.items()):
        named, described = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(triples)))
    return graph
