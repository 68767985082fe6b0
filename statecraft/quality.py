"""Ontology quality checks: OOPS! pitfalls as SPARQL, and terms used but never declared.

Each pitfall is one SELECT query in ontology/quality/<code>-<name>.rq returning ?term and ?reason;
a query that returns nothing means the pitfall is absent. ontology/quality/allowlist.csv
(pitfall,term,reason) lists the findings that are intended; run_pitfall_checks drops them and
reports allow-list entries that no longer match any finding as stale (pitfall "allowlist").
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import rdflib
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from statecraft.namespaces import PREFIXES, SC

__all__ = [
    "AllowListError",
    "AllowEntry",
    "Finding",
    "QUALITY_DIR",
    "PITFALLS",
    "load_allowlist",
    "pitfall_queries",
    "run_pitfall_check",
    "run_pitfall_checks",
    "undeclared_terms",
]

QUALITY_DIR = Path(__file__).resolve().parent.parent / "ontology" / "quality"
PITFALLS = ("P04", "P08", "P11", "P13", "P19", "P22", "P32", "P34", "P35", "P38", "P41")
STALE = "allowlist"  # the pitfall code of a finding that reports a stale allow-list entry

_CODE = re.compile(r"^(P\d\d)\b")


class AllowListError(ValueError):
    """The allow-list is malformed (missing column, unknown pitfall, entry without a reason)."""


@dataclass(frozen=True, order=True)
class Finding:
    pitfall: str
    term: str
    reason: str


@dataclass(frozen=True)
class AllowEntry:
    pitfall: str
    term: str
    reason: str
    line: int


def pitfall_queries(quality_dir: Path = QUALITY_DIR) -> dict[str, Path]:
    """Pitfall code -> its .rq file (exactly one per code)."""
    found: dict[str, Path] = {}
    for path in sorted(Path(quality_dir).glob("*.rq")):
        m = _CODE.match(path.stem)
        if not m:
            continue
        if m.group(1) in found:
            raise ValueError(f"two queries for {m.group(1)}: {found[m.group(1)].name}, {path.name}")
        found[m.group(1)] = path
    return found


def _expand(term: str) -> str:
    term = term.strip()
    if term.startswith("<") and term.endswith(">"):
        return term[1:-1]
    prefix, sep, local = term.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return str(PREFIXES[prefix]) + local
    return term


def load_allowlist(path: Path) -> list[AllowEntry]:
    """Read pitfall,term,reason rows; terms may be full IRIs or CURIEs with the project prefixes."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f)]
    if not rows:
        return []
    header = [c.strip() for c in rows[0]]
    if header != ["pitfall", "term", "reason"]:
        raise AllowListError(f"{path}: the header must be 'pitfall,term,reason', not {header}")
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 3:
            raise AllowListError(f"{path}:{line}: expected 3 columns, got {len(row)}")
        pitfall, term, reason = (c.strip() for c in row)
        if pitfall not in PITFALLS:
            raise AllowListError(f"{path}:{line}: unknown pitfall {pitfall!r}")
        if not term:
            raise AllowListError(f"{path}:{line}: no term")
        if not reason:
            raise AllowListError(f"{path}:{line}: an allowed pitfall needs a reason")
        entries.append(AllowEntry(pitfall, _expand(term), reason, line))
    return entries


def run_pitfall_check(ontology: Graph, query_path: Path) -> list[Finding]:
    """Run one pitfall query; every result row is a Finding (before the allow-list)."""
    query_path = Path(query_path)
    m = _CODE.match(query_path.stem)
    code = m.group(1) if m else query_path.stem
    result = ontology.query(query_path.read_text(encoding="utf-8"))
    if result.type != "SELECT" or "term" not in [str(v) for v in result.vars]:
        raise ValueError(f"{query_path.name}: a pitfall query must be a SELECT with ?term")
    findings = set()
    for row in result:
        term = row.term
        reason = getattr(row, "reason", None)
        findings.add(Finding(code, str(term), str(reason) if reason is not None else ""))
    return sorted(findings)


def run_pitfall_checks(
    ontology: Graph,
    quality_dir: Path = QUALITY_DIR,
    allowlist: Path | None = None,
) -> list[Finding]:
    """All pitfall findings on ``ontology`` that the allow-list does not allow, plus one finding
    (pitfall "allowlist") per allow-list entry that matches no finding any more."""
    quality_dir = Path(quality_dir)
    allowlist = quality_dir / "allowlist.csv" if allowlist is None else Path(allowlist)
    entries = load_allowlist(allowlist)
    raw: list[Finding] = []
    for code, path in pitfall_queries(quality_dir).items():
        raw.extend(run_pitfall_check(ontology, path))
    allowed = {(e.pitfall, e.term) for e in entries}
    kept = [f for f in raw if (f.pitfall, f.term) not in allowed]
    matched = {(f.pitfall, f.term) for f in raw}
    stale = [
        Finding(STALE, e.term, f"stale allow-list entry ({allowlist.name} line {e.line}): "
                               f"{e.pitfall} no longer reports this term")
        for e in entries
        if (e.pitfall, e.term) not in matched
    ]
    return sorted(kept) + stale


def _iris(graph: Graph):
    if isinstance(graph, rdflib.ConjunctiveGraph):
        triples = ((s, p, o) for s, p, o, _ in graph.quads((None, None, None, None)))
    else:
        triples = iter(graph)
    for t in triples:
        for node in t:
            if isinstance(node, URIRef):
                yield node


def undeclared_terms(ontology: Graph, others: Iterable[Graph]) -> set[URIRef]:
    """IRIs in the sc: namespace used anywhere (subject, predicate or object) in ``others`` that
    the ontology does not declare (declared = has an rdf:type in the ontology)."""
    ns = str(SC)
    declared = {s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef)}
    used: set[URIRef] = set()
    for graph in others:
        for node in _iris(graph):
            if node.startswith(ns) and node not in declared:
                used.add(node)
    return used
