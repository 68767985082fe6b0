"""Stages 1–3 of the build: parse the sources, anchor evidence, and assemble the named graphs.

One graph for the ontology, one for the reference entities every article shares, and one per
article (its text, its records and their anchored evidence). Adding an article is adding a folder.
Then the changes curators committed through the endpoint and exported to data/curated/ are
replayed in commit order, and their journal becomes a graph of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .evidence import AnchorError, Span, anchor, article_text_triples
from .namespaces import ONTOLOGY_GRAPH, REFERENCE_GRAPH, SC, article_graph, article_iri
from .sources import SourceError, Sources, merge, parse_file, parse_files


@dataclass
class Assembly:
    sources: Sources
    graphs: dict[URIRef, Graph]
    spans: dict[str, list[Span]] = field(default_factory=dict)
    curated_changes: list[str] = field(default_factory=list)   # replayed from data/curated/journal.trig
    curated_notes: list[str] = field(default_factory=list)

    @property
    def ontology(self) -> Graph:
        return self.graphs[ONTOLOGY_GRAPH]

    def union(self, *extra: Graph) -> Graph:
        return merge((*self.graphs.values(), *extra))


def anchor_article_files(sources: Sources, slug: str, files) -> tuple[Graph, list[Span]]:
    """Parse an article's RDF files and anchor their quotes in the article's text."""
    article = next(a for a in sources.articles if a.slug == slug)
    merged, spans, problems = Graph(), [], []
    for path in files:
        try:
            anchored, found = anchor(parse_files([path]), slug, article.text, path)
        except AnchorError as error:
            problems.extend(error.problems)
            continue
        spans.extend(found)
        for triple in anchored:
            merged.add(triple)
    if problems:
        raise AnchorError(problems)
    for triple in article_text_triples(slug, article.text, article.text_sha256):
        merged.add(triple)
    return merged, spans


def assemble(sources: Sources) -> Assembly:
    graphs = {
        ONTOLOGY_GRAPH: parse_file(sources.ontology_file),
        REFERENCE_GRAPH: parse_files(sources.reference_files),
    }
    assembly = Assembly(sources, graphs)
    problems = []
    for article in sources.articles:
        if not article.rdf_files:
            raise SourceError(f"{article.folder}: no facts (.ttl or .trig files) beside article.txt")
        try:
            graph, spans = anchor_article_files(sources, article.slug, article.rdf_files)
        except AnchorError as error:
            problems.extend(error.problems)
            continue
        if (article_iri(article.slug), RDF.type, SC.Article) not in graph:
            raise SourceError(f"{article.folder}: no file declares <{article_iri(article.slug)}> a sc:Article "
                              f"(the article's IRI is its folder name)")
        graphs[article_graph(article.slug)] = graph
        assembly.spans[article.slug] = spans
    if problems:
        raise AnchorError(problems)
    if sources.curated_journal is not None:
        from .journal import replay
        assembly.curated_changes, assembly.curated_notes = replay(graphs, sources.curated_journal)
    return assembly
