"""Comparing query results the way the W3C test suites mean them.

SELECT results are compared as multisets of solutions, with blank nodes matched up to a bijection
over the whole result (a result set is encoded as an RDF graph in the DAWG result-set vocabulary
and compared with rdflib's graph isomorphism); in order only where the query has a top-level ORDER
BY and the expected result is a sequence (or carries rs:index). Graphs are compared with
rdflib.compare.isomorphic. ASK results by their boolean. (The suite itself only asks for order where a
result in the DAWG vocabulary carries rs:index; checking the order of .srx / .srj / .tsv / .csv results
of ORDER BY queries is stricter, and every such test passes with it.)

Literals: the suite's own rules (rdf-tests sparql11/index.html, "Query Evaluation Tests", as
clarified by w3c/rdf-tests#59) ask for "identical IRI nodes, and equal literal nodes that are
compared by value (test runners may convert lexical form to canonical form to compare character by
character)". So results are compared twice: first term by term (lexical form, datatype and language
tag exactly as written; "x" and "x"^^xsd:string are one term in RDF 1.1), and, if that fails, with
the lexical forms of xsd:boolean, xsd:decimal, xsd:float, xsd:double and the xsd:integer types
turned into canonical ones (only valid lexical forms; strings and every other datatype stay as
written). A test that passes only the second way is reported as passing "by value", so the
lexical-form differences stay visible (they come from Oxigraph, which stores and prints numbers in
canonical form: "1.0E2"^^xsd:double comes back as "100"^^xsd:double).
"""

from __future__ import annotations

import csv
import io
import re
import struct
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from .manifest import url_path

RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

RESULT_MEDIA = {  # expected-result file extension → what to ask the server for
    "srx": "application/sparql-results+xml",
    "srj": "application/sparql-results+json",
    "tsv": "text/tab-separated-values",
    "csv": "text/csv",
}
GRAPH_MEDIA = "application/n-triples"
RESULT_PARSERS = {
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_PARSERS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


@dataclass
class Solutions:
    variables: frozenset[str]
    rows: list[dict[str, object]]      # variable → rdflib term; unbound variables are absent
    ordered: bool = False

    def describe(self) -> str:
        lines = [" ".join(f"?{v}={row[v].n3()}" for v in sorted(row)) or "{}" for row in self.rows]
        return f"variables {sorted(self.variables)}; {len(self.rows)} solution(s)" + "".join(
            f"\n    {line}" for line in (lines if self.ordered else sorted(lines))[:40])


@dataclass
class Boolean:
    value: bool

    def describe(self) -> str:
        return f"boolean {self.value}"


@dataclass
class Triples:
    graph: Graph

    def describe(self) -> str:
        return f"{len(self.graph)} triple(s)" + "".join(
            f"\n    {line}" for line in sorted(self.graph.serialize(format="nt").splitlines())[:40] if line)


# --------------------------------------------------------------------------------------------
# Terms: pyoxigraph → rdflib, without rdflib's literal normalisation
# --------------------------------------------------------------------------------------------

def term(value, side: str):
    if isinstance(value, ox.NamedNode):
        return URIRef(value.value)
    if isinstance(value, ox.BlankNode):
        return BNode(f"{side}{value.value}")
    if isinstance(value, ox.Literal):
        if value.language:
            return Literal(value.value, lang=value.language, normalize=False)
        if value.datatype.value in (XSD_STRING, RDF_LANGSTRING):
            return Literal(value.value, normalize=False)
        return Literal(value.value, datatype=URIRef(value.datatype.value), normalize=False)
    raise TypeError(f"unexpected term {value!r}")


def _graph_of(triples, side: str) -> Graph:
    graph = Graph()
    for t in triples:
        graph.add((term(t.subject, side), term(t.predicate, side), term(t.object, side)))
    return graph


# --------------------------------------------------------------------------------------------
# Reading results
# --------------------------------------------------------------------------------------------

def from_query_results(parsed, side: str):
    if isinstance(parsed, ox.QueryBoolean):
        return Boolean(bool(parsed))
    variables = [v.value for v in parsed.variables]
    rows = []
    for solution in parsed:
        rows.append({name: term(solution[name], side) for name in variables if solution[name] is not None})
    return Solutions(frozenset(variables), rows)


def from_csv(text: str, side: str) -> Solutions:
    """CSV keeps only lexical forms: every value is compared as a string, `_:x` as a blank node."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    rows = []
    for record in reader:
        if not record:
            continue
        row = {}
        for name, value in zip(header, record):
            if value == "":
                continue
            row[name] = BNode(f"{side}{value[2:]}") if value.startswith("_:") else Literal(value, normalize=False)
        rows.append(row)
    return Solutions(frozenset(header), rows)


def from_result_graph(graph: Graph) -> Solutions | Boolean | Triples:
    """A result file in RDF: either the DAWG result-set vocabulary (rs:ResultSet) or a plain graph."""
    result_set = graph.value(predicate=RDF.type, object=RS.ResultSet)
    if result_set is None:
        return Triples(graph)
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return Boolean(boolean.toPython() is True or str(boolean) == "true")
    variables = frozenset(str(v) for v in graph.objects(result_set, RS.resultVariable))
    rows, indexes = [], []
    for solution in graph.objects(result_set, RS.solution):
        row = {}
        for binding in graph.objects(solution, RS.binding):
            row[str(graph.value(binding, RS.variable))] = graph.value(binding, RS.value)
        index = graph.value(solution, RS["index"])
        rows.append(row)
        indexes.append(int(index) if index is not None else None)
    ordered = bool(rows) and all(i is not None for i in indexes)
    if ordered:
        rows = [row for _, row in sorted(zip(indexes, rows), key=lambda pair: pair[0])]
    return Solutions(variables, rows, ordered)


def expected_kind(result_url: str) -> str:
    """The media type to request for a test: the expected result's own format, N-Triples for graphs."""
    extension = result_url.rsplit(".", 1)[-1]
    if extension in RESULT_MEDIA:
        return RESULT_MEDIA[extension]
    expected = load_expected(result_url)
    return GRAPH_MEDIA if isinstance(expected, Triples) else "application/sparql-results+json"


_EXPECTED_CACHE: dict[str, object] = {}


def load_expected(result_url: str):
    if result_url not in _EXPECTED_CACHE:
        path = url_path(result_url)
        extension = path.suffix[1:]
        if extension == "csv":
            value = from_csv(path.read_text(encoding="utf-8"), "e")
        elif extension in ("srx", "srj", "tsv"):
            format = {"srx": ox.QueryResultsFormat.XML, "srj": ox.QueryResultsFormat.JSON,
                      "tsv": ox.QueryResultsFormat.TSV}[extension]
            value = from_query_results(ox.parse_query_results(path=str(path), format=format), "e")
        else:
            value = from_result_graph(_graph_of(ox.parse(path=str(path), base_iri=result_url), "e"))
        _EXPECTED_CACHE[result_url] = value
    return _EXPECTED_CACHE[result_url]


def load_actual(body: bytes, content_type: str):
    media = content_type.split(";")[0].strip().lower()
    if media == "text/csv":
        return from_csv(body.decode("utf-8"), "a")
    if media in RESULT_PARSERS:
        return from_query_results(ox.parse_query_results(body, format=RESULT_PARSERS[media]), "a")
    if media in GRAPH_PARSERS:
        return Triples(_graph_of(ox.parse(body, format=GRAPH_PARSERS[media]), "a"))
    raise AssertionError(f"the server answered with an unexpected media type {content_type!r}")


# --------------------------------------------------------------------------------------------
# Canonical lexical forms (for the comparison by value)
# --------------------------------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER_TYPES = {XSD + name for name in (
    "integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte", "nonNegativeInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger")}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DOUBLE = re.compile(r"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)")


def canonical_lexical(lexical: str, datatype: str) -> str | None:
    """The canonical lexical form of a valid boolean / numeric literal, else None (left as written)."""
    if datatype in INTEGER_TYPES and _INTEGER.fullmatch(lexical):
        return str(int(lexical))
    if datatype == XSD + "decimal" and _DECIMAL.fullmatch(lexical):
        value = Decimal(lexical)
        return format(value.normalize(), "f") if value != 0 else "0"
    if datatype in (XSD + "double", XSD + "float") and _DOUBLE.fullmatch(lexical):
        value = float(lexical.replace("INF", "inf"))
        if value != value:
            return "NaN"
        if datatype == XSD + "float":
            try:
                value = struct.unpack("f", struct.pack("f", value))[0]   # the nearest 32-bit float
            except OverflowError:
                pass
        return repr(value)
    if datatype == XSD + "boolean" and lexical in ("true", "false", "1", "0"):
        return "true" if lexical in ("true", "1") else "false"
    return None


def canonical_term(value):
    if isinstance(value, Literal) and value.datatype is not None:
        text = canonical_lexical(str(value), str(value.datatype))
        if text is not None:
            return Literal(text, datatype=value.datatype, normalize=False)
    return value


def canonical(result):
    if isinstance(result, Solutions):
        return Solutions(result.variables, [{k: canonical_term(v) for k, v in row.items()} for row in result.rows],
                         result.ordered)
    if isinstance(result, Triples):
        graph = Graph()
        for s, p, o in result.graph:
            graph.add((s, p, canonical_term(o)))
        return Triples(graph)
    return result


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------

def _has_bnodes(solutions: Solutions) -> bool:
    return any(isinstance(value, BNode) for row in solutions.rows for value in row.values())


def _as_graph(solutions: Solutions, ordered: bool) -> Graph:
    graph = Graph()
    result_set = BNode()
    graph.add((result_set, RDF.type, RS.ResultSet))
    for index, row in enumerate(solutions.rows, start=1):
        solution = BNode()
        graph.add((result_set, RS.solution, solution))
        if ordered:
            graph.add((solution, RS["index"], Literal(index)))
        for name, value in row.items():
            binding = BNode()
            graph.add((solution, RS.binding, binding))
            graph.add((binding, RS.variable, Literal(name)))
            graph.add((binding, RS.value, value))
    return graph


def same_solutions(expected: Solutions, actual: Solutions, ordered: bool, lax: bool = False) -> bool:
    if expected.variables != actual.variables:
        return False
    if lax:  # mf:LaxCardinality: the same distinct solutions, any number of times
        return {frozenset(r.items()) for r in expected.rows} == {frozenset(r.items()) for r in actual.rows} \
            if not (_has_bnodes(expected) or _has_bnodes(actual)) else isomorphic(
                _as_graph(_distinct(expected), False), _as_graph(_distinct(actual), False))
    if len(expected.rows) != len(actual.rows):
        return False
    if not (_has_bnodes(expected) or _has_bnodes(actual)):
        if ordered:
            return expected.rows == actual.rows
        return Counter(frozenset(r.items()) for r in expected.rows) == Counter(
            frozenset(r.items()) for r in actual.rows)
    # Cheap necessary condition first (blank nodes all alike), so that a wrong result never reaches the
    # graph isomorphism, which can take very long on large results full of blank nodes.
    if ordered:
        if [_blind(r) for r in expected.rows] != [_blind(r) for r in actual.rows]:
            return False
    elif Counter(_blind(r) for r in expected.rows) != Counter(_blind(r) for r in actual.rows):
        return False
    return isomorphic(_as_graph(expected, ordered), _as_graph(actual, ordered))


_ANY_BNODE = BNode("any")


def _blind_triples(graph: Graph) -> Counter:
    return Counter(tuple(_ANY_BNODE if isinstance(t, BNode) else t for t in triple) for triple in graph)


def _blind(row: dict) -> frozenset:
    return frozenset((k, _ANY_BNODE if isinstance(v, BNode) else v) for k, v in row.items())


def _distinct(solutions: Solutions) -> Solutions:
    seen, rows = set(), []
    for row in solutions.rows:
        key = frozenset(row.items())
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return Solutions(solutions.variables, rows)


def compare(expected, actual, ordered: bool, lax: bool = False) -> str | None:
    """"identical" (term by term), "by value" (equal once numeric lexical forms are canonical), or None."""
    if same_result(expected, actual, ordered, lax):
        return "identical"
    if same_result(canonical(expected), canonical(actual), ordered, lax):
        return "by value"
    return None


def same_result(expected, actual, ordered: bool, lax: bool = False) -> bool:
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, Boolean):
        return expected.value == actual.value
    if isinstance(expected, Triples):
        if len(expected.graph) != len(actual.graph) or _blind_triples(expected.graph) != _blind_triples(actual.graph):
            return False   # cheap necessary condition before the (possibly slow) isomorphism
        return isomorphic(expected.graph, actual.graph)
    return same_solutions(expected, actual, ordered or expected.ordered, lax)


# --------------------------------------------------------------------------------------------
# Reading queries: dataset clauses and top-level ORDER BY
# --------------------------------------------------------------------------------------------

_LEXEMES = re.compile(r'''
    \'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'
  | """(?:[^"\\]|\\.|"(?!""))*"""
  | '(?:[^'\\\n]|\\.)*'
  | "(?:[^"\\\n]|\\.)*"
  | <[^<>"{}|^`\\\s]*>
  | \#[^\n]*
''', re.X)
_FROM_CLAUSE = re.compile(r"(?<![\w:?$])FROM(?![\w:-])\s+(?:NAMED\s+)?<([^<>\s]*)>", re.I)
_ORDER_BY = re.compile(r"(?<![\w:?$])ORDER\s+BY(?![\w:-])", re.I)


def code_only(text: str, keep_iris: bool = False) -> str:
    """The query with strings and comments (and IRIs, unless kept) blanked out."""
    def blank(match: re.Match) -> str:
        if keep_iris and match.group(0).startswith("<"):
            return match.group(0)
        return " " * len(match.group(0))
    return _LEXEMES.sub(blank, text)


_FROM_KEYWORD = re.compile(r"(?<![\w:?$])FROM(?![\w:-])", re.I)


def uses_dataset_clause(text: str) -> bool:
    """Whether the query has FROM or FROM NAMED (then it names its own dataset)."""
    return bool(_FROM_KEYWORD.search(code_only(text)))


def dataset_iris(text: str) -> list[str]:
    """The IRIs (as written) of the query's FROM and FROM NAMED clauses."""
    return _FROM_CLAUSE.findall(code_only(text, keep_iris=True))


def has_top_level_order_by(text: str) -> bool:
    code = code_only(text)
    depth, position = 0, 0
    for match in _ORDER_BY.finditer(code):
        depth += code.count("{", position, match.start()) - code.count("}", position, match.start())
        position = match.start()
        if depth == 0:
            return True
    return False
