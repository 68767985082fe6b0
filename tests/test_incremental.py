"""Validating one article against a store gives what validating the whole corpus plus the article gives."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pyoxigraph
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF

from statecraft import reason, validate
from statecraft.generate import article_quads, generate
from statecraft.incremental import shape_reach, validate_article
from statecraft.namespaces import ID, INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, SC
from statecraft.publish import nquads_lines

ROOT = Path(__file__).resolve().parent.parent
ARTICLES, SEED = 3, 11
SCSH = "https://w3id.org/statecraft/shapes#"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    generate(out, ARTICLES, seed=SEED, say=lambda _: None)
    dataset = Dataset()
    dataset.parse(out / "statecraft.nq", format="nquads")
    return SimpleNamespace(nquads=out / "statecraft.nq", graphs={g.identifier: g for g in dataset.graphs() if len(g)},
                           shapes=validate.load_shapes())


def load(nquads: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.bulk_load(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


def full_validation(corpus, article: Graph) -> validate.ValidationOutcome:
    """What the build does, on the corpus with the article added, kept to the article's subjects."""
    asserted = Graph()
    for name, graph in corpus.graphs.items():
        if name not in (INFERRED_GRAPH, article.identifier):
            asserted += graph
    asserted += article
    data = asserted + reason.materialise(asserted, ROOT / "ontology" / "rules")
    data -= corpus.graphs[ONTOLOGY_GRAPH]
    return validate.validate(data, corpus.shapes, corpus.graphs[ONTOLOGY_GRAPH],
                             focus_nodes={s for s in article.subjects() if isinstance(s, URIRef)})


def keys(outcome: validate.ValidationOutcome) -> set:
    return {(r.focus, validate.format_path(r.path), r.value, r.severity, r.source_shape, r.component)
            for r in outcome.results}


def broken_article() -> tuple[Graph, Graph, set]:
    """A new article, and a copy with three mistakes: a deployment without a sender, a span whose
    offsets are one character off, and a deployment to NATO, which is not a state; with the
    (focus, shape) of each mistake."""
    for index in range(ARTICLES, ARTICLES + 30):
        valid = article_quads(index, SEED, articles=ARTICLES)
        deployments = sorted(valid.subjects(RDF.type, SC.MilitaryDeployment))
        if len(deployments) >= 2:
            break
    article = Graph(identifier=valid.identifier)
    article += valid
    without_sender, to_nato = deployments[:2]
    article.remove((without_sender, SC.sendingState, None))
    article.set((to_nato, SC.receivingState, ID["organisation/nato"]))
    span = sorted(article.subjects(RDF.type, SC.EvidenceSpan))[0]
    position = URIRef(f"{span}#position")
    start = article.value(position, OA.start)
    article.set((position, OA.start, Literal(int(start) + 1, datatype=start.datatype)))
    return valid, article, {(without_sender, SCSH + "Deployment-sendingState"),
                            (to_nato, SCSH + "Deployment-receivingState"),
                            (span, SCSH + "EvidenceSpan-quoteMatchesText"),
                            (span, SCSH + "EvidenceSpan-iriMatchesOffsets")}


def test_a_newly_generated_article_conforms(corpus):
    outcome = validate_article(article_quads(ARTICLES, SEED, articles=ARTICLES), load(corpus.nquads))
    assert outcome.conforms, "\n".join(validate.format_result(r) for r in outcome.violations)


def test_a_broken_article_gets_the_results_of_a_full_validation(corpus):
    _, article, expected = broken_article()
    outcome = validate_article(article, load(corpus.nquads), corpus.graphs[ONTOLOGY_GRAPH], corpus.shapes)
    assert expected <= {(r.focus, str(r.source_shape)) for r in outcome.violations}
    assert keys(outcome) == keys(full_validation(corpus, article))


def test_a_changed_article_replaces_its_previous_version_in_the_store(corpus):
    valid, article, expected = broken_article()
    store = load(corpus.nquads)
    store.load("".join(nquads_lines({valid.identifier: valid})), format=pyoxigraph.RdfFormat.N_QUADS)
    outcome = validate_article(article, store, corpus.graphs[ONTOLOGY_GRAPH], corpus.shapes)
    assert expected <= {(r.focus, str(r.source_shape)) for r in outcome.violations}


def test_the_shapes_are_read_forward_and_backward_along_what_they_follow(corpus):
    reach = shape_reach(corpus.shapes, corpus.graphs[ONTOLOGY_GRAPH])
    assert {RDF.type, SC.sendingState, OA.hasSource, SC.citesSource, SC.citedNote, SC.ibidOf} <= reach.forward
    assert OWL.sameAs in reach.backward            # the Wikidata check joins on the item's other subjects
    assert SC.hasRecord in reach.backward          # sc:extractedFrom, which the shapes read, is its inverse
    assert SC.participatesIn not in reach.forward | reach.backward
