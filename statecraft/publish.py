"""Last stage of the build: write the dataset to dist/ as TriG, N-Quads, Turtle, JSON-LD and VoID/DCAT.

Output is deterministic: blank nodes get canonical labels (rdflib.compare), N-Quads lines are sorted,
JSON-LD is written with sorted keys and sorted node lists. The same sources give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from urllib.parse import quote

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD
from rdflib.plugins.serializers.nquads import _nq_row

from .namespaces import BASE, DCAT, ID, PREFIXES, SC, SCHEMA, VOID, bind_prefixes

DATASET_IRI = URIRef(BASE + "dataset")
DUMP_BASE = BASE + "dist/"
SD = "http://www.w3.org/ns/sparql-service-description#"
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")

DUMPS = {
    "statecraft.trig": ("application/trig", "TriG: every named graph"),
    "statecraft.nq": ("application/n-quads", "N-Quads: every named graph"),
    "statecraft.ttl": ("text/turtle", "Turtle: the union of all graphs"),
    "statecraft.jsonld": ("application/ld+json", "JSON-LD: every named graph, compacted with context.jsonld"),
}


@dataclass(frozen=True)
class Publication:
    files: list[Path]
    content_hash: str
    triple_counts: dict[str, int]


def canonical(graph: Graph) -> Graph:
    """A copy of the graph whose blank nodes carry labels computed from the graph's content."""
    result = Graph(identifier=graph.identifier)
    has_bnodes = any(isinstance(term, BNode) for triple in graph for term in triple)
    for triple in (to_canonical_graph(graph) if has_bnodes else graph):
        result.add(triple)
    return result


def bind_identifier_prefixes(graph: Graph, graphs) -> None:
    """Bind a prefix per kind of identifier (state:, person:, statement: …) so dumps stay readable."""
    bind_prefixes(graph)
    kinds = set()
    for g in graphs:
        for term in (t for triple in g for t in triple):
            if isinstance(term, URIRef) and term.startswith(str(ID)):
                rest = term[len(ID):]
                if "/" in rest:
                    kinds.add(rest.split("/", 1)[0])
    for kind in sorted(kinds):
        if kind.replace("-", "").isalnum() and kind not in PREFIXES:
            graph.bind(kind, ID[kind + "/"], override=True)


def nquads_lines(graphs: dict[URIRef, Graph]) -> list[str]:
    lines = []
    for name, graph in graphs.items():
        lines.extend(_nq_row(triple, name) for triple in graph)
    return sorted(lines)


def trig_text(graphs: dict[URIRef, Graph], bindings: Graph) -> str:
    """TriG with the graphs in sorted order (rdflib's TriG writer orders graphs by hash)."""
    prefixes, bodies = set(), []
    for name, graph in graphs.items():
        named = Graph(identifier=name)
        for prefix, namespace in bindings.namespaces():
            named.bind(prefix, namespace, override=True, replace=True)
        for triple in graph:
            named.add(triple)
        lines = named.serialize(format="turtle").splitlines()
        prefixes.update(line for line in lines if line.startswith("@prefix"))
        body = [line for line in lines if not line.startswith("@prefix")]  # no indent: long literals span lines
        while body and not body[0]:
            body.pop(0)
        while body and not body[-1]:
            body.pop()
        bodies.append(f"<{name}> {{\n" + "\n".join(body) + "\n}\n")
    return "\n".join(sorted(prefixes)) + "\n\n" + "\n".join(bodies)


def jsonld_context(graphs) -> dict:
    holder = Graph()
    bind_identifier_prefixes(holder, graphs)
    return {prefix: str(namespace) for prefix, namespace in sorted(holder.namespaces()) if prefix}


def _sorted_json(value):
    if isinstance(value, dict):
        return {key: (item if key == "@list" else _sorted_json(item)) for key, item in sorted(value.items())}
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def void_description(graphs: dict[URIRef, Graph], union: Graph, content_hash: str) -> Graph:
    void = Graph()
    bind_prefixes(void)
    void.bind("sd", SD)
    d = DATASET_IRI
    void.add((d, RDF.type, VOID.Dataset))
    void.add((d, RDF.type, DCAT.Dataset))
    void.add((d, DCTERMS.title, Literal("Statecraft knowledge graph", lang="en")))
    void.add((d, DCTERMS.description, Literal(
        "States, persons in office, organisations, agreements, deployments, transfers, sanctions, aid, visits and "
        "statements read from analysis articles, each with the sentence that supports it.", lang="en")))
    void.add((d, DCTERMS.license, LICENSE))
    void.add((d, DCTERMS.identifier, Literal(f"sha256:{content_hash}")))
    void.add((d, VOID.triples, Literal(sum(len(g) for g in graphs.values()))))
    void.add((d, VOID.distinctSubjects, Literal(len(set(union.subjects())))))
    void.add((d, VOID.properties, Literal(len(set(union.predicates())))))
    void.add((d, VOID.classes, Literal(len(set(union.objects(None, RDF.type))))))
    void.add((d, VOID.uriSpace, Literal(str(ID))))
    void.add((d, VOID.sparqlEndpoint, URIRef(BASE + "sparql")))
    for article in sorted(union.subjects(RDF.type, SC.Article)):
        void.add((d, DCTERMS.source, article))
    used = {str(p) for p in union.predicates()} | {str(o) for o in union.objects(None, RDF.type)}
    for prefix in ("sc", "schema", "prov", "oa", "skos", "dcterms", "org", "sem", "owl", "rdfs"):
        namespace = str(PREFIXES[prefix])
        if any(term.startswith(namespace) for term in used):
            void.add((d, VOID.vocabulary, URIRef(namespace)))
    for name, graph in graphs.items():
        own = name.startswith(BASE + "graph/")
        subset = URIRef(f"{d}/graph/{name[len(BASE + 'graph/'):]}" if own else f"{d}/graph/external/{quote(name, safe='')}")
        void.add((d, VOID.subset, subset))
        void.add((subset, RDF.type, VOID.Dataset))
        void.add((subset, URIRef(SD + "name"), name))
        void.add((subset, VOID.triples, Literal(len(graph))))
    for file_name, (media_type, title) in DUMPS.items():
        url = URIRef(DUMP_BASE + file_name)
        void.add((d, VOID.dataDump, url))
        distribution = URIRef(f"{d}/distribution/{file_name}")
        void.add((d, DCAT.distribution, distribution))
        void.add((distribution, RDF.type, DCAT.Distribution))
        void.add((distribution, DCTERMS.title, Literal(title, lang="en")))
        void.add((distribution, DCAT.downloadURL, url))
        void.add((distribution, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media_type}")))
    return void


def write_dist(graphs: dict[URIRef, Graph], dist: Path, report: dict) -> Publication:
    """Write all dumps to a temporary folder beside dist/, then swap it in: never a half-written dist/."""
    graphs = {name: canonical(graph) for name, graph in sorted(graphs.items())}
    lines = nquads_lines(graphs)
    content_hash = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()

    dataset = Dataset()
    bind_identifier_prefixes(dataset, graphs.values())
    union = Graph()
    bind_identifier_prefixes(union, graphs.values())
    for name, graph in graphs.items():
        target = dataset.graph(name)
        for triple in graph:
            target.add(triple)
            union.add(triple)

    dist.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dist-", dir=dist.parent))
    try:
        (staging / "statecraft.nq").write_text("".join(lines), encoding="utf-8")
        (staging / "statecraft.trig").write_text(trig_text(graphs, union), encoding="utf-8")
        (staging / "statecraft.ttl").write_text(union.serialize(format="turtle"), encoding="utf-8")
        context = jsonld_context(graphs.values())
        (staging / "context.jsonld").write_text(
            json.dumps({"@context": context}, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        expanded = json.loads(dataset.serialize(format="json-ld", context=context))
        (staging / "statecraft.jsonld").write_text(
            json.dumps(_sorted_json(expanded), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        void = void_description(graphs, union, content_hash)
        (staging / "void.ttl").write_text(void.serialize(format="turtle"), encoding="utf-8")
        report = {**report, "content_hash": f"sha256:{content_hash}",
                  "triples_per_graph": {str(name): len(graph) for name, graph in graphs.items()}}
        (staging / "build-report.json").write_text(
            json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        os.chmod(staging, 0o755)
        previous = dist.with_name(dist.name + ".previous")
        if previous.exists():
            shutil.rmtree(previous)
        if dist.exists():
            dist.rename(previous)
        staging.rename(dist)
        if previous.exists():
            shutil.rmtree(previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Publication(sorted(dist.iterdir()), content_hash, {str(n): len(g) for n, g in graphs.items()})
