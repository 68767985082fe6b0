"""The synthetic corpus generator: the build's layout, the shapes, the reasoner's inferences,
evidence that slices the text, a skewed population, requested sizes, and byte-identical output."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from statecraft import reason, validate
from statecraft.generate import SyntheticCorpus, article_quads, article_slug, generate, triples_for_size
from statecraft.namespaces import ID, INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, REFERENCE_GRAPH, SC, SCHEMA, article_graph
from statecraft.publish import nquads_lines
from statecraft.sources import discover, parse_file, parse_files

ROOT = Path(__file__).resolve().parent.parent
ARTICLES, SEED = 10, 7


def quiet(_message: str) -> None:
    pass


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    report = generate(out, ARTICLES, seed=SEED, say=quiet)
    dataset = Dataset()
    dataset.parse(out / "statecraft.nq", format="nquads")
    graphs = {graph.identifier: graph for graph in dataset.graphs() if len(graph)}
    return SimpleNamespace(out=out, report=report, graphs=graphs)


def union(graphs, *, leave_out=()) -> Graph:
    merged = Graph()
    for name, graph in graphs.items():
        if name not in leave_out:
            merged += graph
    return merged


def test_the_layout_and_the_report_are_those_of_a_build(corpus):
    articles = {article_graph(article_slug(i)) for i in range(ARTICLES)}
    assert set(corpus.graphs) == {ONTOLOGY_GRAPH, REFERENCE_GRAPH, INFERRED_GRAPH} | articles
    report = json.loads((corpus.out / "build-report.json").read_text(encoding="utf-8"))
    assert report == corpus.report
    assert report["generator"] == "statecraft generate" and (report["seed"], report["articles"]) == (SEED, ARTICLES)
    assert report["content_hash"] == "sha256:" + hashlib.sha256((corpus.out / "statecraft.nq").read_bytes()).hexdigest()
    assert report["triples_per_graph"] == {str(name): len(graph) for name, graph in corpus.graphs.items()}
    assert report["triples"] == sum(len(graph) for graph in corpus.graphs.values())

    void = Graph().parse(corpus.out / "void.ttl", format="turtle")
    triples = void.value(URIRef("https://w3id.org/statecraft/dataset"), URIRef("http://rdfs.org/ns/void#triples"))
    assert int(triples) == report["triples"]
    assert "sc" in json.loads((corpus.out / "context.jsonld").read_text(encoding="utf-8"))["@context"]

    sources = discover(ROOT)
    assert isomorphic(corpus.graphs[ONTOLOGY_GRAPH], parse_file(sources.ontology_file))
    assert set(parse_files(sources.reference_files)) <= set(corpus.graphs[REFERENCE_GRAPH])


def test_synthetic_entities_are_marked_and_never_linked_to_wikidata(corpus):
    reference = corpus.graphs[REFERENCE_GRAPH]
    synthetic = {s for s in reference.subjects() if "/synthetic-" in str(s)}
    kinds = Counter(str(s)[len(str(ID)):].split("/")[0] for s in synthetic)
    assert {"state", "person", "post", "organisation", "place", "conflict"} <= set(kinds)
    linked = set(union(corpus.graphs).subjects(OWL.sameAs, None))
    assert all(str(reference.value(entity, RDFS.label)).endswith("(synthetic)") for entity in synthetic)
    assert not synthetic & linked


def test_the_articles_are_written_as_the_build_writes_graphs(corpus):
    """Line for line what statecraft.publish writes for the same graphs, escapes included."""
    lines = (corpus.out / "statecraft.nq").read_text(encoding="utf-8").splitlines(keepends=True)
    generator = SyntheticCorpus(ARTICLES, SEED)
    written = ""
    for index in range(ARTICLES):
        name = article_graph(article_slug(index))
        article = Graph()
        for triple in generator.article_triples(index):
            article.add(triple)
        lines_of_article = [line for line in lines if line.endswith(f"<{name}> .\n")]
        assert lines_of_article == nquads_lines({name: article})
        written += "".join(lines_of_article)
    assert all(escape in written for escape in ("\\n", '\\"', "’", "“"))
    assert set(article_quads(ARTICLES - 1, SEED, articles=ARTICLES)) == set(article)


def test_every_evidence_span_slices_its_article_text(corpus):
    spans = 0
    for index in range(ARTICLES):
        graph = corpus.graphs[article_graph(article_slug(index))]
        article = ID[f"article/{article_slug(index)}"]
        text = str(graph.value(article, SCHEMA.text))
        assert str(graph.value(article, SC.textSha256)) == hashlib.sha256(text.encode("utf-8")).hexdigest()
        for span in graph.subjects(RDF.type, SC.EvidenceSpan):
            quote, position = URIRef(f"{span}#quote"), URIRef(f"{span}#position")
            start, end = int(graph.value(position, OA.start)), int(graph.value(position, OA.end))
            assert str(span) == f"{ID}evidence/{article_slug(index)}/{start}-{end}"
            assert str(graph.value(quote, OA.exact)) == text[start:end]
            assert str(graph.value(quote, OA.prefix)) == text[max(0, start - 32):start]
            assert str(graph.value(quote, OA.suffix)) == text[end:end + 32]
            assert graph.value(span, OA.hasSource) == article
            spans += 1
        records = set(graph.subjects(SC.hasEvidence, None))
        assert records and all((record, SC.extractedFrom, article) in graph for record in records)
        assert len(text.encode("utf-8")) > len(text), "curly quotes: offsets count code points, not bytes"
    assert spans == corpus.report["evidence_spans"]


def test_the_corpus_conforms_to_the_shapes(corpus):
    data = union(corpus.graphs, leave_out={ONTOLOGY_GRAPH})
    outcome = validate.validate(data, validate.load_shapes(), corpus.graphs[ONTOLOGY_GRAPH])
    assert outcome.conforms, "\n".join(validate.format_result(r) for r in outcome.violations)


def test_the_inferred_graph_is_what_the_reasoner_derives(corpus):
    asserted = union(corpus.graphs, leave_out={INFERRED_GRAPH})
    derived = reason.materialise(asserted, ROOT / "ontology" / "rules")
    written = corpus.graphs[INFERRED_GRAPH]
    assert set(written) == set(derived), (f"missing {sorted(set(derived) - set(written))[:5]}, "
                                          f"extra {sorted(set(written) - set(derived))[:5]}")
    for shortcut in (SC.deployedTroopsTo, SC.supplied, SC.alignedWith, SC.opposes, SC.holds, SC.mentions):
        assert (None, shortcut, None) in written, f"no {shortcut}: the rule is not exercised"


def test_a_few_states_take_part_in_most_facts_and_most_states_in_few():
    """Counted over the facts a state takes part in (tenures and summits are between persons)."""
    articles = 100
    corpus = SyntheticCorpus(articles, seed=SEED)
    states = {state.iri for state in corpus.population.states}
    fact_classes = set(corpus.ontology.transitive_subjects(RDFS.subClassOf, SC.Fact))
    states_of_fact: dict = {}
    for index in range(articles):
        triples = corpus.article_triples(index)
        facts = {s for s, p, o in triples if p == RDF.type and o in fact_classes}
        for s, _, o in triples:
            if s in facts and o in states:
                states_of_fact.setdefault(s, set()).add(o)
    in_facts = Counter(state for found in states_of_fact.values() for state in found)
    top_three = {state for state, _ in in_facts.most_common(3)}
    with_top_three = sum(1 for found in states_of_fact.values() if found & top_three)
    rare = [state for state in states if in_facts[state] < 0.02 * len(states_of_fact)]
    assert len(states) > 200 and len(states_of_fact) > 1000
    assert with_top_three > 0.5 * len(states_of_fact)
    assert len(rare) > len(states) / 2


@pytest.mark.parametrize("target", [10_000, 100_000])
def test_a_requested_size_is_met_within_ten_per_cent(target, tmp_path):
    report = generate(tmp_path, triples_for_size(target), say=quiet)
    assert abs(report["triples"] - target) <= 0.1 * target


def test_output_is_byte_identical_whatever_the_hash_seed(tmp_path):
    runs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"hash-seed-{hash_seed}"
        code = ("from pathlib import Path; from statecraft.generate import generate; "
                f"generate(Path({str(out)!r}), 3, seed=5)")
        runs.append((out, subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                                           env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)})))
    for _, process in runs:
        assert process.wait(timeout=120) == 0
    (first, _), (second, _) = runs
    for name in ("statecraft.nq", "build-report.json", "void.ttl", "context.jsonld"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_different_seeds_give_different_corpora(tmp_path):
    hashes = {generate(tmp_path / str(seed), 2, seed=seed, say=quiet)["content_hash"] for seed in (1, 2)}
    assert len(hashes) == 2


def test_the_cli_writes_a_corpus_the_endpoint_serves_as_it_is(tmp_path):
    import httpx
    from conftest import run_cli
    from live_server import LiveServer
    out, store = tmp_path / "corpus", tmp_path / "store"
    result = run_cli("generate", "--triples", "10000", "--seed", "3", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "build-report.json").read_text(encoding="utf-8"))
    live = LiveServer(["--dist", str(out), "--store", str(store), "--no-build", "--workers", "1"],
                      log=tmp_path / "server.log")
    try:
        assert httpx.get(live.url + "/health").json()["triples"] == report["triples"]
        answer = httpx.post(live.url + "/sparql", headers={"Accept": "application/sparql-results+json"}, data={
            "query": "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                     "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/statecraft/graph/article/synthetic')) }"})
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == report["articles"]
    finally:
        live.stop()
    assert run_cli("generate", str(tmp_path / "x")).returncode == 2
