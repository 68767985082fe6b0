"""OWL reasoning for the Statecraft graph.

Two jobs, kept apart on purpose:

* ``check_consistency`` runs HermiT (through owlready2) on the ontology plus the asserted data and
  reports whether the whole is consistent and which classes are unsatisfiable. HermiT is the judge;
  its inferences are not copied into the graph.
* ``materialise`` computes, in plain Python, the triples that queries need but that nobody
  asserted: types along the class hierarchy, super-properties, inverses, symmetric properties,
  property chains and the project's CONSTRUCT rules. It returns only the new triples; the build
  stores them in their own named graph.

What materialise deliberately does NOT do (each would be wrong for this project):

* no typing from rdfs:domain / rdfs:range: that would make a missing ``a sc:State`` disappear
  behind an inferred one, and SHACL could no longer report it;
* no owl:sameAs: no statement is ever copied onto (or from) a Wikidata IRI, and no inferred
  triple has a Wikidata IRI as its subject or object;
* nothing about the ontology's own terms (no triple whose subject is a class or a property),
  no reflexive triples, no triple with a literal as its subject.

HermiT's own inferred class assertions and property values are not merged into the
materialised graph: with this ontology they are exactly the closure above plus domain/range typing
and owl:sameAs copying, i.e. precisely the two things excluded. ``hermit_inferences`` exposes them so
that tests can check that every HermiT inference about a Statecraft individual is already in
asserted ∪ materialised (given data typed as the SHACL shapes require).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import count
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import rdflib
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

__all__ = [
    "ConsistencyReport",
    "ReasoningError",
    "check_consistency",
    "hermit_inferences",
    "materialise",
    "is_wikidata_iri",
]


class ReasoningError(Exception):
    """The reasoner could not run, or a rule is unusable."""


@dataclass
class ConsistencyReport:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


# ---------------------------------------------------------------------------------------------
# HermiT through owlready2
# ---------------------------------------------------------------------------------------------

_INFERENCES_ONTOLOGY = "http://inferrences/"  # (sic) owlready2's name for the reasoner's output


def _plain(graph: Graph) -> Graph:
    """A plain Graph with every triple of ``graph``; for a Dataset/ConjunctiveGraph, the union of
    all its graphs (the caller's graph is returned as is when it is already plain)."""
    if isinstance(graph, rdflib.ConjunctiveGraph):  # Dataset is a subclass
        union = Graph()
        for s, p, o, _ in graph.quads((None, None, None, None)):
            union.add((s, p, o))
        return union
    return graph


def _require_java():
    import owlready2

    java = owlready2.JAVA_EXE
    if not (os.path.isfile(java) and os.access(java, os.X_OK)) and shutil.which(java) is None:
        raise ReasoningError(
            f"HermiT needs a Java runtime (17 or later), but {java!r} was not found on PATH. "
            "Install a JRE (Debian: openjdk-17-jre-headless) or set owlready2.JAVA_EXE."
        )
    return owlready2


def _run_hermit(graph: Graph, infer_property_values: bool = True):
    """Load ``graph`` into a fresh owlready2 World and run HermiT on it.

    Returns (world, seconds, captured_output). Raises owlready2.OwlReadyInconsistentOntologyError
    (caller handles it) and ReasoningError for everything else that goes wrong."""
    owlready2 = _require_java()
    tmp = tempfile.NamedTemporaryFile("wb", suffix=".nt", delete=False)
    try:
        with tmp:
            _plain(graph).serialize(destination=tmp, format="nt", encoding="utf-8")
        world = owlready2.World()
        captured = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            try:
                world.get_ontology(Path(tmp.name).as_uri()).load()
            except Exception as exc:  # owlready2 raises plain exceptions on parse errors
                raise ReasoningError(f"owlready2 could not load the graph: {exc}") from exc
            try:
                owlready2.sync_reasoner_hermit(
                    world,
                    infer_property_values=infer_property_values,
                    debug=0,
                    ignore_unsupported_datatypes=True,
                )
            except owlready2.OwlReadyInconsistentOntologyError:
                raise
            except owlready2.OwlReadyJavaError as exc:
                raise ReasoningError(f"HermiT failed: {exc}") from exc
            except FileNotFoundError as exc:  # java vanished between the check and the call
                raise ReasoningError(f"HermiT needs Java: {exc}") from exc
        return world, time.perf_counter() - t0, captured.getvalue()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)


def check_consistency(graph: Graph) -> ConsistencyReport:
    """Run HermiT on ``graph`` (ontology + asserted data) in a fresh owlready2 World.

    consistent is False when HermiT finds the whole inconsistent (then no class can be checked,
    and unsatisfiable stays empty); unsatisfiable lists the IRIs of classes equivalent to
    owl:Nothing in a consistent ontology."""
    import owlready2

    t0 = time.perf_counter()
    try:
        world, _, output = _run_hermit(graph, infer_property_values=True)
    except owlready2.OwlReadyInconsistentOntologyError as exc:
        return ConsistencyReport(
            consistent=False,
            unsatisfiable=[],
            seconds=time.perf_counter() - t0,
            detail=f"HermiT: the ontology with its data is inconsistent ({exc.__class__.__name__})",
        )
    try:
        unsat = sorted(
            c.iri for c in world.inconsistent_classes()
            if c is not owlready2.Nothing and hasattr(c, "iri")
        )
    finally:
        world.close()
    seconds = time.perf_counter() - t0
    detail = (
        f"HermiT: consistent, {len(unsat)} unsatisfiable class(es)"
        + (": " + ", ".join(unsat) if unsat else "")
    )
    if output.strip():
        detail += "\n" + output.strip()
    return ConsistencyReport(consistent=True, unsatisfiable=unsat, seconds=seconds, detail=detail)


def hermit_inferences(graph: Graph) -> Graph:
    """The class assertions and object property values HermiT infers for the individuals of
    ``graph`` that are not asserted (owlready2 keeps them in its 'inferrences' ontology).

    Class assertions are HermiT's most specific types only. Raises ReasoningError when the graph
    is inconsistent."""
    import owlready2

    try:
        world, _, _ = _run_hermit(graph, infer_property_values=True)
    except owlready2.OwlReadyInconsistentOntologyError as exc:
        raise ReasoningError("the graph is inconsistent; HermiT infers nothing useful") from exc
    out = Graph()
    buf = io.BytesIO()
    try:
        world.get_ontology(_INFERENCES_ONTOLOGY).save(file=buf, format="ntriples")
    finally:
        world.close()
    out.parse(data=buf.getvalue().decode("utf-8"), format="nt")
    # owlready2 types its output ontology node; that is not an inference about the data
    out.remove((URIRef(_INFERENCES_ONTOLOGY.rstrip("/")), None, None))
    out.remove((URIRef(_INFERENCES_ONTOLOGY), None, None))
    return out


# ---------------------------------------------------------------------------------------------
# Materialisation
# ---------------------------------------------------------------------------------------------

_WIKIDATA_PREFIXES = ("http://www.wikidata.org/", "https://www.wikidata.org/")

_TERM_TYPES = {
    OWL.Class, RDFS.Class, RDFS.Datatype, OWL.Restriction,
    RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
    OWL.OntologyProperty, OWL.SymmetricProperty, OWL.AsymmetricProperty,
    OWL.TransitiveProperty, OWL.FunctionalProperty, OWL.InverseFunctionalProperty,
    OWL.ReflexiveProperty, OWL.IrreflexiveProperty, OWL.DeprecatedClass, OWL.DeprecatedProperty,
    OWL.Ontology, OWL.AllDisjointClasses, OWL.AllDisjointProperties, OWL.AllDifferent,
    OWL.NegativePropertyAssertion, OWL.Axiom,
}
# predicates whose subject (and, for the class/property hierarchy, object) is a term
_AXIOM_SUBJECT = {
    RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith, OWL.complementOf, OWL.unionOf,
    OWL.intersectionOf, OWL.oneOf, OWL.disjointUnionOf, OWL.hasKey,
    RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf, OWL.propertyDisjointWith,
    OWL.propertyChainAxiom, RDFS.domain, RDFS.range,
}
_AXIOM_OBJECT = {
    RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith, OWL.complementOf,
    RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf, OWL.propertyDisjointWith,
    RDFS.domain, RDFS.range, OWL.onProperty, OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass,
}
_BUILTIN_NAMESPACES = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")
_USELESS_TYPES = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}
_NEVER_INFER = {OWL.sameAs, OWL.differentFrom}


def is_wikidata_iri(node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(_WIKIDATA_PREFIXES)


class Vocabulary:
    """The schema knowledge materialise needs, read once from the graph."""

    def __init__(self, src: Graph):
        terms: set = set()
        for s, t in src.subject_objects(RDF.type):
            if t in _TERM_TYPES:
                terms.add(s)
            terms.add(t)  # whatever is used as a type is a class
        for p in _AXIOM_SUBJECT:
            terms.update(src.subjects(p, None))
        for p in _AXIOM_OBJECT:
            terms.update(o for o in src.objects(None, p) if isinstance(o, URIRef))
        terms.update(src.predicates())
        self.terms = terms

        self.super_classes = _closure(_hierarchy(src, RDFS.subClassOf, OWL.equivalentClass), exclude=_USELESS_TYPES)
        self.super_properties = _closure(_hierarchy(src, RDFS.subPropertyOf, OWL.equivalentProperty),
                                         exclude=_NEVER_INFER | {OWL.topObjectProperty})

        inv = defaultdict(set)
        for p, q in src.subject_objects(OWL.inverseOf):
            if isinstance(p, URIRef) and isinstance(q, URIRef):
                inv[p].add(q)
                inv[q].add(p)
        self.inverses = {p: frozenset(qs - _NEVER_INFER) for p, qs in inv.items()}
        self.symmetric = {
            p for p in src.subjects(RDF.type, OWL.SymmetricProperty) if p not in _NEVER_INFER
        }

        # property chains: P ⊒ p1 ∘ … ∘ pn, decomposed into binary chains over auxiliary
        # predicates (kept in the index, never emitted) so that any length works
        self.chains: list[tuple] = []  # (result, first, second)
        self.aux: set = set()
        fresh = count()
        for result, head in src.subject_objects(OWL.propertyChainAxiom):
            links = list(Collection(src, head))
            if len(links) < 2 or not all(isinstance(x, URIRef) for x in links):
                raise ReasoningError(f"unsupported property chain for {result}: {links}")
            left = links[0]
            for i, nxt in enumerate(links[1:], start=1):
                if i == len(links) - 1:
                    target = result
                else:
                    target = URIRef(f"urn:statecraft:chain-aux:{next(fresh)}")
                    self.aux.add(target)
                self.chains.append((target, left, nxt))
                left = target
        self.chain_first = defaultdict(list)   # p1 -> [(result, p2)]
        self.chain_second = defaultdict(list)  # p2 -> [(result, p1)]
        for result, p1, p2 in self.chains:
            self.chain_first[p1].append((result, p2))
            self.chain_second[p2].append((result, p1))
        self.chain_predicates = {p for _, p1, p2 in self.chains for p in (p1, p2)}

    def is_individual(self, node) -> bool:
        if isinstance(node, Literal) or node in self.terms:
            return False
        if isinstance(node, URIRef) and str(node).startswith(_BUILTIN_NAMESPACES):
            return False
        return True


def _hierarchy(src: Graph, sub_of, equivalent) -> dict:
    """Direct super-terms of each named class (or property): sub_of edges, equivalence both ways."""
    edges = defaultdict(set)
    for a, b in src.subject_objects(sub_of):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            edges[a].add(b)
    for a, b in src.subject_objects(equivalent):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            edges[a].add(b)
            edges[b].add(a)
    return edges


def _closure(edges: dict, exclude: set) -> dict:
    """Reflexive-free transitive closure of a relation given as node -> set of nodes."""
    result: dict = {}

    def visit(start):
        seen, stack = set(), list(edges.get(start, ()))
        while stack:
            n = stack.pop()
            if n in seen or n == start:
                continue
            seen.add(n)
            stack.extend(edges.get(n, ()))
        return frozenset(seen - exclude)

    for node in list(edges):
        result[node] = visit(node)
    return result


class Closure:
    """Semi-naive forward chaining of the built-in rules over a set of known triples."""

    def __init__(self, vocab: Vocabulary, known: set):
        self.v = vocab
        self.known = known
        self.by_subject = defaultdict(lambda: defaultdict(set))  # p -> s -> {o}
        self.by_object = defaultdict(lambda: defaultdict(set))   # p -> o -> {s}
        for s, p, o in known:
            if p in vocab.chain_predicates:
                self._index(s, p, o)

    def _index(self, s, p, o):
        self.by_subject[p][s].add(o)
        self.by_object[p][o].add(s)

    def acceptable(self, s, p, o) -> bool:
        if p in _NEVER_INFER or s == o:
            return False
        if is_wikidata_iri(s) or is_wikidata_iri(o):
            return False
        return self.v.is_individual(s)

    def _consequences(self, s, p, o):
        v = self.v
        if p == RDF.type:
            for d in v.super_classes.get(o, ()):
                yield s, RDF.type, d
            return
        if p in _NEVER_INFER:
            return
        for q in v.super_properties.get(p, ()):
            yield s, q, o
        if not isinstance(o, Literal):
            for q in v.inverses.get(p, ()):
                yield o, q, s
            if p in v.symmetric:
                yield o, p, s
        for result, p2 in v.chain_first.get(p, ()):
            for o2 in tuple(self.by_subject[p2].get(o, ())):
                yield s, result, o2
        for result, p1 in v.chain_second.get(p, ()):
            for s0 in tuple(self.by_object[p1].get(s, ())):
                yield s0, result, o

    def run(self, queue: Iterable[tuple]) -> list[tuple]:
        """Close ``known`` under the rules, starting from ``queue``; return the new triples."""
        new: list[tuple] = []
        stack = list(queue)
        aux = self.v.aux
        while stack:
            s, p, o = stack.pop()
            if not self.v.is_individual(s) or is_wikidata_iri(s):
                continue
            for t in self._consequences(s, p, o):
                if t in self.known:
                    continue
                ts, tp, to = t
                if tp in aux:  # internal link of a long chain: index it, never emit it
                    if ts == to or is_wikidata_iri(ts) or not self.v.is_individual(ts):
                        continue
                    self.known.add(t)
                    self._index(ts, tp, to)
                    stack.append(t)
                    continue
                if not self.acceptable(ts, tp, to):
                    continue
                self.known.add(t)
                if tp in self.v.chain_predicates:
                    self._index(ts, tp, to)
                new.append(t)
                stack.append(t)
        return new


def _load_rules(rules_dir: Path | None):
    """The CONSTRUCT rules of `rules_dir`, parsed once per content (parsing takes 0.15 s; the write
    path reasons after every write)."""
    if rules_dir is None:
        return []
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise ReasoningError(f"rules directory not found: {rules_dir}")
    texts = tuple((path.name, path.read_text(encoding="utf-8")) for path in sorted(rules_dir.glob("*.rq")))
    return list(_parsed_rules(texts))


@lru_cache(maxsize=4)
def _parsed_rules(texts: tuple[tuple[str, str], ...]) -> tuple:
    from rdflib.plugins.sparql import prepareQuery
    from statecraft.namespaces import PREFIXES

    rules = []
    for name, text in texts:
        path = Path(name)
        try:
            query = prepareQuery(text, initNs={k: str(v) for k, v in PREFIXES.items()})
        except Exception as exc:
            raise ReasoningError(f"rule {path.name} does not parse: {exc}") from exc
        if query.algebra.name != "ConstructQuery":
            raise ReasoningError(f"rule {path.name} is not a CONSTRUCT query")
        template = query.algebra.template or []
        if any(isinstance(x, BNode) for t in template for x in t):
            raise ReasoningError(
                f"rule {path.name}: blank nodes in a CONSTRUCT template mint new nodes on every "
                "round, so the fixpoint would never be reached; use IRIs"
            )
        rules.append((path.name, query))
    return tuple(rules)


MAX_RULE_ROUNDS = 50


def materialise(asserted: Graph, rules_dir: Path | None = None) -> Graph:
    """The triples that follow from ``asserted`` (ontology + all data) under the rules in the
    module docstring and the CONSTRUCT queries in ``rules_dir/*.rq``, minus those already
    asserted. Deterministic: the result is the unique least fixpoint (no rule mints nodes).

    Cost is linear in the number of triples touched: the built-in rules run in plain Python over
    a set and two chain indexes; each CONSTRUCT rule is re-run on asserted ∪ inferred (a read-only
    aggregate, nothing copied) until a round adds nothing."""
    from statecraft.namespaces import bind_prefixes

    asserted = _plain(asserted)
    rules = _load_rules(rules_dir)
    vocab = Vocabulary(asserted)
    known: set = set(asserted)
    engine = Closure(vocab, known)

    out = Graph()
    bind_prefixes(out)
    out.addN((s, p, o, out) for s, p, o in engine.run(list(known)))

    if rules:
        # One plain graph, not a ReadOnlyGraphAggregate: rdflib evaluates joins over an aggregate
        # about a hundred times slower (41 s against 0.4 s on the first article).
        union = Graph()
        union.addN((s, p, o, union) for s, p, o in known)
        for _round in range(MAX_RULE_ROUNDS):
            fresh = []
            for _name, query in rules:
                for t in union.query(query):
                    if t in known or not engine.acceptable(*t):
                        continue
                    known.add(t)
                    if t[1] in vocab.chain_predicates:
                        engine._index(*t)
                    fresh.append(t)
            if not fresh:
                break
            closed = engine.run(fresh)
            out.addN((s, p, o, out) for s, p, o in fresh + closed)
            union.addN((s, p, o, union) for s, p, o in fresh + closed)
        else:
            raise ReasoningError(f"the rules did not reach a fixpoint in {MAX_RULE_ROUNDS} rounds")
    return out
