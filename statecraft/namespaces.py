"""IRIs and prefixes shared by every stage of the flow."""

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD, PROV, ORG

BASE = "https://w3id.org/statecraft/"
SC = Namespace(BASE + "ontology#")
ONTOLOGY_IRI = URIRef(BASE + "ontology")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")

ONTOLOGY_GRAPH = GRAPH["ontology"]
REFERENCE_GRAPH = GRAPH["reference"]
INFERRED_GRAPH = GRAPH["inferred"]

SCHEMA = Namespace("https://schema.org/")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
OA = Namespace("http://www.w3.org/ns/oa#")
VANN = Namespace("http://purl.org/vocab/vann/")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SH = Namespace("http://www.w3.org/ns/shacl#")
WD = Namespace("http://www.wikidata.org/entity/")

PREFIXES = {
    "sc": SC, "id": ID, "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS,
    "dcterms": DCTERMS, "prov": PROV, "org": ORG, "schema": SCHEMA, "sem": SEM, "oa": OA,
    "vann": VANN, "void": VOID, "dcat": DCAT, "sh": SH, "wd": WD,
}


def article_iri(slug: str) -> URIRef:
    return ID[f"article/{slug}"]


def article_graph(slug: str) -> URIRef:
    return GRAPH[f"article/{slug}"]


def evidence_iri(slug: str, start: int, end: int) -> URIRef:
    return ID[f"evidence/{slug}/{start}-{end}"]


def bind_prefixes(graph) -> None:
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
