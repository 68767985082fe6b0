"""SHACL validation of the Statecraft graph against the shapes in shapes/.

Validation runs on the data together with its inferences, with the ontology mixed in, so that
sh:class follows rdfs:subClassOf and finds the vocabulary concepts the ontology declares.

The ontology is merged whole into a copy of the data rather than handed to pyshacl as ont_graph:
pyshacl's mixing copies only the RDFS and OWL axioms (and rdfs:label), not skos:definition or the
dcterms metadata, so the shapes for the ontology itself would see a stripped copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Union

import pyshacl
from rdflib import RDF, BNode, Graph, Namespace, URIRef
from rdflib.extras.shacl import parse_shacl_path
from rdflib.graph import ConjunctiveGraph
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from statecraft.namespaces import PREFIXES, SH

SCSH = Namespace("https://w3id.org/statecraft/shapes#")
SHAPES_DIR = Path(__file__).resolve().parent.parent / "shapes"
DEFAULT_PREFIXES: dict[str, str] = {**PREFIXES, "scsh": SCSH}

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
_READABLE_LOCAL_NAME = re.compile(r'[^\s<>"{}|^`\\]+')


@dataclass(frozen=True)
class ValidationResult:
    focus: Node
    path: URIRef | PropertyPath | None   # a complex path (sc:quotation|sc:paraphrase) as an rdflib Path
    value: Node | None
    severity: str                        # "Violation", "Warning" or "Info"
    message: str
    source_shape: Node
    component: URIRef | None = None      # sh:sourceConstraintComponent, such as sh:MinCountConstraintComponent


@dataclass
class ValidationOutcome:
    results: list[ValidationResult]
    report: Graph = field(repr=False)

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations


def load_shapes(source: Union[Path, str, Iterable[Union[Path, str]]] = SHAPES_DIR) -> Graph:
    """Parse every *.ttl file of a shapes directory, or the given files, into one graph."""
    if isinstance(source, (str, Path)):
        source = Path(source)
        files = sorted(source.glob("*.ttl")) if source.is_dir() else [source]
    else:
        files = [Path(f) for f in source]
    if not files:
        raise FileNotFoundError(f"no shapes files in {source}")
    shapes = Graph()
    for file in files:
        shapes.parse(file, format="turtle")
    _bind(shapes)
    return shapes


def validate(
    data: Graph,
    shapes: Graph,
    ontology: Graph | None,
    focus_nodes: Iterable[Node] | None = None,
) -> ValidationOutcome:
    """Validate data (a Graph, or a Dataset whose graphs are merged) with the ontology mixed in.

    Pass ontology=None to validate an ontology document itself. With focus_nodes, only the
    results about those nodes are kept. (pyshacl's own focus_nodes option also filters the value
    nodes that nested shapes check, through sh:node or sh:or, so those checks would always pass.)
    """
    data_graph = _merge(data, ontology)
    _, report, _ = pyshacl.validate(
        data_graph,
        shacl_graph=_merge(shapes),
        inference="none",
        advanced=True,
        allow_warnings=True,
        inplace=True,   # data_graph is already our own copy
    )
    _bind(report)
    results = _parse_report(report)
    if focus_nodes is not None:
        wanted = set(focus_nodes)
        results = [r for r in results if r.focus in wanted]
    return ValidationOutcome(results=results, report=report)


def format_result(result: ValidationResult, prefixes: Mapping[str, str] | None = None) -> str:
    """One line: severity, focus node, path, value, message and shape, with prefixed names.

    The prefixes given are added to, and take precedence over, those of statecraft.namespaces and scsh:.
    """
    return (
        f"{result.severity:<9}  {format_node(result.focus, prefixes)}"
        f"  path={format_path(result.path, prefixes)}"
        f"  value={format_node(result.value, prefixes)}"
        f"  — {_one_line(result.message)}  [{format_node(result.source_shape, prefixes)}]"
    )


def format_node(node: Node | None, prefixes: Mapping[str, str] | None = None, max_length: int = 80) -> str:
    """A node for display: id:state/north-korea, "2024-13-45"^^xsd:date, or - for none."""
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        return _compact(node, prefixes)
    if isinstance(node, BNode):
        return "[]"
    text = _one_line(str(node))
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    text = '"' + text.replace('"', '\\"') + '"'
    if node.language:
        return f"{text}@{node.language}"
    if node.datatype:
        return f"{text}^^{_compact(node.datatype, prefixes)}"
    return text


def format_path(path: URIRef | PropertyPath | None, prefixes: Mapping[str, str] | None = None) -> str:
    """A property path in SPARQL syntax: sc:sendingState, sc:quotation|sc:paraphrase, ^sc:speaker."""
    if path is None:
        return "-"
    if isinstance(path, URIRef):
        return _compact(path, prefixes)

    def part(p):
        text = format_path(p, prefixes)
        return f"({text})" if isinstance(p, (AlternativePath, SequencePath)) else text

    if isinstance(path, AlternativePath):
        return "|".join(part(p) for p in path.args)
    if isinstance(path, SequencePath):
        return "/".join(part(p) for p in path.args)
    if isinstance(path, InvPath):
        return "^" + part(path.arg)
    if isinstance(path, MulPath):
        return part(path.path) + path.mod
    return str(path)


def _parse_report(report: Graph) -> list[ValidationResult]:
    results = set()
    # Only the top-level results: those nested under sh:detail are explained by their parent.
    for report_node in report.subjects(RDF.type, SH.ValidationReport):
        for r in report.objects(report_node, SH.result):
            path_node = report.value(r, SH.resultPath)
            results.add(ValidationResult(
                focus=report.value(r, SH.focusNode),
                path=parse_shacl_path(report, path_node) if path_node is not None else None,
                value=report.value(r, SH.value),
                severity=SEVERITIES.get(report.value(r, SH.resultSeverity), "Violation"),
                message=" ".join(sorted(str(m) for m in report.objects(r, SH.resultMessage))),
                source_shape=report.value(r, SH.sourceShape),
                component=report.value(r, SH.sourceConstraintComponent),
            ))
    return sorted(results, key=_sort_key)


def _sort_key(r: ValidationResult) -> tuple:
    return (
        _SEVERITY_ORDER.get(r.severity, len(_SEVERITY_ORDER)),
        str(r.focus),
        format_path(r.path),
        str(r.source_shape),
        "" if r.value is None else r.value.n3(),
        r.message,
    )


class _QueryCachingGraph(Graph):
    """An in-memory Graph that parses each distinct SPARQL query once.

    pyshacl runs a SPARQL constraint's query once per focus node, with $this bound, and parsing
    the query text takes far longer than evaluating it.
    """

    def query(self, query_object, processor="sparql", result="sparql", initNs=None,  # noqa: N803
              initBindings=None, use_store_provided=True, **kwargs):  # noqa: N803
        if isinstance(query_object, str):
            namespaces = initNs if initNs is not None else dict(self.namespaces())
            query_object = _prepared_query(query_object, tuple(sorted(namespaces.items())))
        return super().query(query_object, processor, result, initNs, initBindings,
                             use_store_provided, **kwargs)


@lru_cache(maxsize=512)
def _prepared_query(text: str, namespaces: tuple[tuple[str, str], ...]):
    return prepareQuery(text, initNs=dict(namespaces))


def _merge(*graphs: Graph | None) -> Graph:
    """A new in-memory Graph with the triples of the graphs; a Dataset's graphs are merged.

    Copying also takes the data off any other store: pyshacl on an Oxigraph-backed graph is
    many times slower than on rdflib's memory store.
    """
    merged = _QueryCachingGraph()
    for graph in graphs:
        if graph is None:
            continue
        if isinstance(graph, ConjunctiveGraph):
            for s, p, o, _ in graph.quads((None, None, None, None)):
                merged.add((s, p, o))
        else:
            for triple in graph:
                merged.add(triple)
    _bind(merged)
    return merged


def _bind(graph: Graph) -> None:
    for prefix, namespace in DEFAULT_PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)


def _compact(iri: URIRef, prefixes: Mapping[str, str] | None) -> str:
    best = None
    for prefix, namespace in {**DEFAULT_PREFIXES, **(prefixes or {})}.items():
        namespace = str(namespace)
        if iri.startswith(namespace) and (best is None or len(namespace) > len(best[1])):
            best = (prefix, namespace)
    if best is not None:
        local = iri[len(best[1]):]
        if _READABLE_LOCAL_NAME.fullmatch(local):
            return f"{best[0]}:{local}"
    return f"<{iri}>"


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "\\n").replace("\t", "\\t")
