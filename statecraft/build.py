"""The build: parse → anchor evidence → assemble named graphs → check → reason → validate → write dist/.

It stops at the first stage that finds a problem, with a message that names the file, the node and
the rule, and leaves dist/ as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rdflib import Graph

from . import quality, reason, validate
from .assemble import Assembly, assemble
from .coverage import uncovered
from .namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, PREFIXES, article_graph
from .publish import Publication, write_dist
from .reconcile import unlinked_entities
from .sources import discover, merge
from .store import sources_digest


class BuildError(Exception):
    """The build stopped; the message says where and why."""


@dataclass
class BuildResult:
    assembly: Assembly
    inferred: Graph
    validation: validate.ValidationOutcome
    publication: Publication | None


def _data_union(assembly: Assembly, *extra: Graph) -> Graph:
    """Everything but the ontology graph (pyshacl and HermiT get the ontology separately or merged)."""
    return merge([*(g for name, g in assembly.graphs.items() if name != ONTOLOGY_GRAPH), *extra])


def run_checks(assembly: Assembly, say: Callable[[str], None]) -> None:
    shapes = [validate.load_shapes(assembly.sources.shapes_files)] if assembly.sources.shapes_files else []
    others = [g for n, g in assembly.graphs.items() if n != ONTOLOGY_GRAPH] + shapes
    undeclared = quality.undeclared_terms(assembly.ontology, others)
    if undeclared:
        raise BuildError("terms in the sc: namespace used by data or shapes but not declared in "
                         f"{assembly.sources.ontology_file}: " + ", ".join(sorted(undeclared)))
    findings = quality.run_pitfall_checks(assembly.ontology)
    say(f"          ontology pitfalls (OOPS! P04…P41): {len(findings)} finding(s)")
    for finding in findings:
        say(f"            {finding.pitfall} {finding.term}: {finding.reason}")


def build(root: Path, dist: Path | None = None, say: Callable[[str], None] = print, write: bool = True) -> BuildResult:
    started = time.perf_counter()
    sources = discover(root)
    say(f"[1/6] parse     {sources.ontology_file.relative_to(sources.root)}, {len(sources.reference_files)} reference "
        f"file(s), {len(sources.articles)} article(s)")
    assembly = assemble(sources)
    for slug, spans in assembly.spans.items():
        say(f"[2/6] evidence  {len(spans)} quote(s) anchored in {slug}")
    say("[3/6] assemble  " + ", ".join(f"{name.split('/graph/')[-1]} {len(g)}" for name, g in assembly.graphs.items()))
    if assembly.curated_changes:
        say(f"          replayed {len(assembly.curated_changes)} curated change(s) from {sources.curated_journal}")
    for note in assembly.curated_notes:
        say(f"          {note}")
    run_checks(assembly, say)

    asserted = assembly.union()
    consistency = reason.check_consistency(asserted)
    if not consistency.consistent or consistency.unsatisfiable:
        raise BuildError("HermiT: the ontology with the data is inconsistent"
                         + (f"; unsatisfiable classes: {', '.join(consistency.unsatisfiable)}" if consistency.unsatisfiable else "")
                         + (f"\n{consistency.detail}" if consistency.detail else ""))
    inferred = reason.materialise(asserted, sources.rules_dir)
    say(f"[4/6] reason    HermiT: consistent, no unsatisfiable class ({consistency.seconds:.1f} s); "
        f"inferred {len(inferred)} triple(s) into {INFERRED_GRAPH}")

    shapes = validate.load_shapes(sources.shapes_files)
    outcome = validate.validate(_data_union(assembly, inferred), shapes, assembly.ontology)
    say(f"[5/6] validate  {len(outcome.violations)} violation(s), {len(outcome.warnings)} warning(s)")
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    for result in outcome.warnings:
        say("          " + validate.format_result(result, prefixes))
    if not outcome.conforms:
        raise BuildError("SHACL validation found violations; nothing was written:\n"
                         + "\n".join(validate.format_result(r, prefixes) for r in outcome.violations))

    unlinked = unlinked_entities(_data_union(assembly), assembly.ontology)
    say(f"reconciliation: {len(unlinked)} entit{'y' if len(unlinked) == 1 else 'ies'} with no Wikidata link "
        "(owl:sameAs only for verified identifiers):")
    for entity in unlinked:
        say(f"          {entity.kind:<22} {entity.label}  <{entity.iri}>")

    uncovered_total = 0
    for article in sources.articles:
        gaps = uncovered(article.text, assembly.spans[article.slug], assembly.graphs[article_graph(article.slug)])
        claims = [g for g in gaps if not g.claim_free]
        uncovered_total += len(claims)
        say(f"coverage: {article.slug}: {len(gaps)} sentence(s) without evidence, {len(claims)} of them with a claim")

    publication = None
    if write:
        graphs = dict(assembly.graphs)
        graphs[INFERRED_GRAPH] = inferred
        report = {
            "sources_sha256": sources_digest(sources.root),
            "hermit": {"consistent": True, "unsatisfiable": []},
            "inferred_triples": len(inferred),
            "evidence_spans": {slug: len(spans) for slug, spans in assembly.spans.items()},
            "violations": 0,
            "warnings": [validate.format_result(r, prefixes) for r in outcome.warnings],
            "unlinked_entities": [{"iri": str(u.iri), "label": u.label, "kind": u.kind} for u in unlinked],
            "curated_changes": assembly.curated_changes,
        }
        publication = write_dist(graphs, dist or sources.root / "dist", report)
        say(f"[6/6] write     {len(publication.files)} file(s) in {dist or sources.root / 'dist'} "
            f"(content sha256:{publication.content_hash[:16]}…)")
    say(f"done in {time.perf_counter() - started:.1f} s")
    return BuildResult(assembly, inferred, outcome, publication)
