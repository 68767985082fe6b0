"""Validating a new or changed article against a large corpus in well under a second, whatever its size.

pyshacl's time grows with the data it is given: an article validated together with a corpus of a
million triples takes tens of seconds, nearly all of them spent on nodes that did not change.
``validate_article`` gives the validator only what the shapes can read about the article's nodes:

* the article's graph;
* from the store, hop by hop from the IRIs the article names, the triples along the predicates the
  shapes follow (``shape_reach``): those of their paths and of their SPARQL constraints and targets,
  read forward from a node, or backward where a query joins on a node's subjects, together with the
  predicates the reasoner turns into those (sub-properties, property-chain links, inverses);
* the ontology, whole;
* the inferences of all of it (``reason.materialise``).

It then runs ``validate.validate`` with the article's subjects as focus nodes, so the results are
those that validating the store's union plus the article reports for those nodes.

The store's graph named like the article graph is its previous version and is left out, and so are
the store's inferences about the article's subjects: both are recomputed from the new version.

The time does not grow with the corpus when the store is on disk: each lookup is answered from
its indexes. Oxigraph's in-memory store has no index on subject and predicate together and reads
all the quads of a node for each, so there the busiest entities make it slower as the corpus grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.extras.shacl import parse_shacl_path
from rdflib.namespace import RDF, XSD
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from . import reason, validate
from .namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, SH
from .sources import merge

RULES_DIR = Path(__file__).resolve().parent.parent / "ontology" / "rules"
HOPS = 2   # a value's type, and the node a SPARQL constraint or a property chain reaches through it


@dataclass(frozen=True)
class ShapeReach:
    """The predicates along which the shapes read the data, away from a node and towards it."""
    forward: frozenset[URIRef]
    backward: frozenset[URIRef]


def validate_article(article_graph: Graph, store: pyoxigraph.Store, ontology_graph: Graph | None = None,
                     shapes: Graph | None = None, rules_dir: Path | None = RULES_DIR,
                     hops: int = HOPS) -> validate.ValidationOutcome:
    """Validate ``article_graph`` against the corpus in ``store``; the results about its subjects.

    ``article_graph`` is an article's graph or any set of new or changed triples. If its identifier
    names a graph of the store, it replaces that graph; otherwise its triples join the store's.
    ``ontology_graph`` defaults to the store's ontology graph and ``shapes`` to the project's
    shapes: pass them when validating many graphs, to read the ontology once.
    """
    ontology = ontology_graph if ontology_graph is not None else _graph_from_store(store, ONTOLOGY_GRAPH)
    shapes = shapes if shapes is not None else _project_shapes()
    reach = shape_reach(shapes, ontology)
    subjects = {s for s in article_graph.subjects() if isinstance(s, URIRef)}
    replaced = article_graph.identifier if isinstance(article_graph.identifier, URIRef) else None
    data = merge([article_graph, neighbourhood(store, article_graph, reach, ontology, replaced, hops)])
    data += reason.materialise(merge([ontology, data]), rules_dir)
    return validate.validate(data, shapes, ontology, focus_nodes=subjects)


def validate_change(store: pyoxigraph.Store, changed: list, ontology: Graph, shapes: Graph,
                    hops: int = HOPS) -> validate.ValidationOutcome:
    """Validate the state of ``store`` (a candidate with a write applied and its inferences
    recomputed) for the nodes a write touched: the subjects and objects of the ``changed`` quads
    (inserted or deleted), and the nodes whose shapes read them (one step back along the predicates
    the shapes follow, and forward along those they follow backwards)."""
    reach = shape_reach(shapes, ontology)
    ontology_terms = {s for s in ontology.subjects() if isinstance(s, URIRef)}
    touched = {term for quad in changed for term in (quad.subject, quad.object)
               if isinstance(term, (pyoxigraph.NamedNode, pyoxigraph.BlankNode))}
    touched = {t for t in touched if _rdflib_term(t) not in ontology_terms}
    focus = set(touched)
    forward = [pyoxigraph.NamedNode(p) for p in sorted(reach.forward)]
    backward = [pyoxigraph.NamedNode(p) for p in sorted(reach.backward)]
    for node in touched:
        focus.update(q.subject for q in _quads_along(store, forward, lambda p: (None, p, node, None)))
        focus.update(q.object for q in _quads_along(store, backward, lambda p: (node, p, None, None))
                     if isinstance(q.object, (pyoxigraph.NamedNode, pyoxigraph.BlankNode)))
    seed = Graph()
    for node in focus:
        for quad in store.quads_for_pattern(node, None, None, None):
            seed.add((_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object)))
    data = merge([seed, neighbourhood(store, seed, reach, ontology, hops=hops, keep_inferred=True)])
    return validate.validate(data, shapes, ontology, focus_nodes={_rdflib_term(n) for n in focus})


def neighbourhood(store: pyoxigraph.Store, article_graph: Graph, reach: ShapeReach, ontology: Graph,
                  replaced: URIRef | None = None, hops: int = HOPS, keep_inferred: bool = False) -> Graph:
    """The store's triples along ``reach``, up to ``hops`` steps from the IRIs the article names.

    Ontology terms are not followed: the ontology goes into the validation whole, and its classes
    and concepts are the objects of nearly every record. Neither are the graph ``replaced`` and the
    inferences about the article's subjects (unless ``keep_inferred``: the store's are current).
    """
    ontology_terms = {s for s in ontology.subjects() if isinstance(s, URIRef)}
    subjects = {s for s in article_graph.subjects() if isinstance(s, URIRef)}
    skipped_graphs = {pyoxigraph.NamedNode(replaced)} if replaced is not None else set()
    inferred = pyoxigraph.NamedNode(INFERRED_GRAPH)
    forward = [pyoxigraph.NamedNode(p) for p in sorted(reach.forward)]
    backward = [pyoxigraph.NamedNode(p) for p in sorted(reach.backward)]

    found = Graph()
    named_by_article = {t for triple in article_graph for t in (triple[0], triple[2]) if isinstance(t, URIRef)}
    frontier = named_by_article - ontology_terms
    visited = set(frontier)
    for _ in range(hops):
        reached = set()
        for node in frontier:
            named = pyoxigraph.NamedNode(node)
            quads = _quads_along(store, forward, lambda p: (named, p, None, None))
            quads += _quads_along(store, backward, lambda p: (None, p, named, None))
            for quad in quads:
                if quad.graph_name in skipped_graphs:
                    continue
                triple = (_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object))
                if not keep_inferred and quad.graph_name == inferred and (triple[0] in subjects or triple[2] in subjects):
                    continue
                found.add(triple)
                reached.update(t for t in (triple[0], triple[2]) if isinstance(t, URIRef))
        frontier = reached - visited - ontology_terms
        visited |= frontier
    return found


def _quads_along(store: pyoxigraph.Store, predicates: list, pattern) -> list:
    """The quads ``pattern(p)`` matches for the predicates p, one lookup each, which an on-disk store
    answers from its indexes; none for a node the store does not have (those the article mints)."""
    if next(iter(store.quads_for_pattern(*pattern(None))), None) is None:
        return []
    return [quad for p in predicates for quad in store.quads_for_pattern(*pattern(p))]


def shape_reach(shapes: Graph, ontology: Graph) -> ShapeReach:
    """The predicates the shapes read, found in their paths, their targets and their SPARQL queries."""
    return _shape_reach(frozenset(shapes), frozenset(ontology))


@lru_cache(maxsize=8)
def _shape_reach(shape_triples: frozenset, ontology_triples: frozenset) -> ShapeReach:
    """Cached by content: parsing the shapes' SPARQL takes a quarter of a second."""
    shapes, ontology = Graph(), Graph()
    for triple in shape_triples:
        shapes.add(triple)
    for triple in ontology_triples:
        ontology.add(triple)
    forward, backward = {RDF.type}, set()
    for link in (SH.path, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH.equals, SH.targetSubjectsOf):
        for path in shapes.objects(None, link):
            _add_path(parse_shacl_path(shapes, path), forward, backward)
    backward.update(shapes.objects(None, SH.targetObjectsOf))
    for owner, text in shapes.subject_objects(SH.select):
        _add_query(prepareQuery(str(text), initNs=_declared_prefixes(shapes, owner)), forward, backward)
    return _with_entailments(forward, backward, reason.Vocabulary(ontology))


def _add_path(path, forward: set, backward: set, inverted: bool = False) -> None:
    """Add the predicates of a property path, those under an inverse path to the other side."""
    if isinstance(path, URIRef):
        (backward if inverted else forward).add(path)
    elif isinstance(path, InvPath):
        _add_path(path.arg, forward, backward, not inverted)
    elif isinstance(path, (SequencePath, AlternativePath)):
        for part in path.args:
            _add_path(part, forward, backward, inverted)
    elif isinstance(path, MulPath):
        _add_path(path.path, forward, backward, inverted)
    else:
        raise ValueError(f"the shapes use a path incremental validation cannot follow: {path!r}")


def _declared_prefixes(shapes: Graph, owner) -> dict[str, str]:
    prefixes = {}
    for source in shapes.objects(owner, SH.prefixes):
        for declaration in shapes.objects(source, SH.declare):
            prefixes[str(shapes.value(declaration, SH.prefix))] = str(shapes.value(declaration, SH.namespace))
    return prefixes


def _add_query(query, forward: set, backward: set) -> None:
    """Walk a SPARQL query's patterns out from $this: a pattern read from its subject is forward,
    one read from its object backward."""
    patterns = set(_patterns(query.algebra))
    reached = {Variable("this")}
    progress = True
    while progress:
        progress = False
        for subject, predicate, obj in patterns:
            if isinstance(predicate, Variable):
                raise ValueError("a SPARQL constraint with a variable predicate reads every predicate; "
                                 "incremental validation cannot narrow it")
            if subject in reached or not isinstance(subject, Variable):
                _add_path(predicate, forward, backward)
                grown = isinstance(obj, Variable) and obj not in reached
                reached.add(obj)
            elif obj in reached:
                _add_path(predicate, forward, backward, inverted=True)
                grown = subject not in reached
                reached.add(subject)
            else:
                continue
            progress = progress or grown


def _patterns(node):
    if isinstance(node, CompValue):
        if node.name == "BGP":
            yield from node.triples
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def _with_entailments(forward: set, backward: set, vocabulary) -> ShapeReach:
    """Add the predicates from which the reasoner derives those read: sub-properties, chain links, inverses."""
    sub_properties: dict = {}
    for sub, supers in vocabulary.super_properties.items():
        for sup in supers:
            sub_properties.setdefault(sup, set()).add(sub)
    links: dict = {}
    for result, first, second in vocabulary.chains:
        links.setdefault(result, set()).update((first, second))
    while True:
        size = len(forward) + len(backward)
        for read, opposite in ((forward, backward), (backward, forward)):
            for predicate in list(read):
                read.update(sub_properties.get(predicate, ()))
                read.update(links.get(predicate, ()))
                opposite.update(vocabulary.inverses.get(predicate, ()))
                if predicate in vocabulary.symmetric:
                    opposite.add(predicate)
        if len(forward) + len(backward) == size:
            return ShapeReach(frozenset(forward - vocabulary.aux), frozenset(backward - vocabulary.aux))


@lru_cache(maxsize=1)
def _project_shapes() -> Graph:
    return validate.load_shapes()


def _graph_from_store(store: pyoxigraph.Store, name: URIRef) -> Graph:
    graph = Graph()
    for quad in store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(name)):
        graph.add((_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object)))
    return graph


_XSD_STRING = str(XSD.string)
_RDF_LANG_STRING = str(RDF.langString)


def _rdflib_term(term):
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value in (_XSD_STRING, _RDF_LANG_STRING):
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))
