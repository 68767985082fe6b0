"""The build end to end: a validated, reasoned, deterministic dataset in dist/, and clear failures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

from conftest import ARTICLE_TEXT, ROOT, SLUG, ask, copy_project, edit, run_cli, select, shared

GRAPH = "https://w3id.org/statecraft/graph/"
EXPECTED_FILES = {"statecraft.trig", "statecraft.nq", "statecraft.ttl", "statecraft.jsonld", "context.jsonld",
                  "void.ttl", "build-report.json"}


def test_build_ends_valid_consistent_and_reconciled(built):
    assert "HermiT: consistent, no unsatisfiable class" in built.output
    assert re.search(r"\[5/6\] validate  0 violation\(s\)", built.output)
    assert "reconciliation:" in built.output and "Yoon Suk Yeol" in built.output
    assert "inferred" in built.output and built.result.inferred
    assert {p.name for p in built.dist.iterdir()} == EXPECTED_FILES


def test_named_graphs_and_their_counts_in_void(built):
    dataset = Dataset()
    dataset.parse(built.dist / "statecraft.trig", format="trig")
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert names == {GRAPH + "ontology", GRAPH + "reference", GRAPH + f"article/{SLUG}", GRAPH + "inferred"}
    void = Graph().parse(built.dist / "void.ttl")
    counts = {str(name): int(triples) for name, triples in void.query(
        "SELECT ?name ?triples WHERE { ?s <http://www.w3.org/ns/sparql-service-description#name> ?name ; "
        "<http://rdfs.org/ns/void#triples> ?triples }")}
    assert counts == {name: len(dataset.graph(URIRef(name))) for name in names}
    assert (None, URIRef("http://rdfs.org/ns/void#vocabulary"), URIRef("https://schema.org/")) in void
    assert len(list(void.objects(None, URIRef("http://www.w3.org/ns/dcat#downloadURL")))) == 4


def test_dumps_are_byte_identical_on_a_second_build(built, tmp_path):
    """A second build, in another process with another hash seed, writes the same bytes."""
    second = tmp_path / "dist"
    result = run_cli("build", "--dist", str(second), env={"PYTHONHASHSEED": "4242"})
    assert result.returncode == 0, result.stderr
    for name in EXPECTED_FILES:
        assert (second / name).read_bytes() == (built.dist / name).read_bytes(), name


def _graphs(dataset: Dataset) -> dict[str, Graph]:
    return {str(g.identifier): g for g in dataset.graphs() if len(g)}


def test_round_trip_trig_nquads_jsonld_is_isomorphic(built):
    original = Dataset()
    original.parse(built.dist / "statecraft.trig", format="trig")
    as_nquads = Dataset()
    as_nquads.parse(data=original.serialize(format="nquads"), format="nquads")
    context = json.loads((built.dist / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    as_jsonld = Dataset()
    as_jsonld.parse(data=as_nquads.serialize(format="json-ld", context=context), format="json-ld")
    from_dump = Dataset()
    from_dump.parse(built.dist / "statecraft.jsonld", format="json-ld")
    expected = _graphs(original)
    for candidate in (as_nquads, as_jsonld, from_dump):
        got = _graphs(candidate)
        assert got.keys() == expected.keys()
        for name, graph in expected.items():
            assert isomorphic(graph, got[name]), name


def test_every_span_slices_the_article_to_its_quote(store):
    rows = select(store, """
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?span ?exact ?prefix ?suffix ?start ?end WHERE {
          ?span oa:hasSelector ?q, ?p .
          ?q a oa:TextQuoteSelector ; oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
          ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
        }""")
    assert len(rows) > 80
    for row in rows:
        start, end = int(row["start"]), int(row["end"])
        assert ARTICLE_TEXT[start:end] == row["exact"], row["span"]
        assert ARTICLE_TEXT[:start].endswith(row["prefix"]) and ARTICLE_TEXT[end:].startswith(row["suffix"])
        assert row["span"].endswith(f"/evidence/{SLUG}/{start}-{end}")


def test_every_record_has_evidence_status_and_article(store):
    for missing in ("sc:hasEvidence ?x", "sc:epistemicStatus ?x", "sc:extractedFrom ?x", "rdfs:label ?x"):
        assert not ask(store, f"""
            PREFIX sc: <https://w3id.org/statecraft/ontology#>
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            ASK {{ ?record a sc:Record . FILTER NOT EXISTS {{ ?record {missing} }} }}"""), missing
    records = select(store, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { "
                            "?r a <https://w3id.org/statecraft/ontology#Record> }")
    assert int(records[0]["n"]) >= 60


def test_reasoning_goes_to_its_own_graph_and_never_onto_wikidata(store):
    # Alignment types and the cited source (a property chain through an "Ibid." note) are inferred ...
    assert ask(store, f"""ASK {{ GRAPH <{GRAPH}inferred> {{
        <https://w3id.org/statecraft/id/state/south-korea> a <https://schema.org/Country> .
        <https://w3id.org/statecraft/id/statement/yoon-north-korean-deployment-security-threat>
            <https://w3id.org/statecraft/ontology#citedSource>
            <https://w3id.org/statecraft/id/source/yonhap-2024-10-29-war-directly-affects-security> . }} }}""")
    # ... and are absent from the asserted graphs.
    assert not ask(store, f"""ASK {{ GRAPH ?g {{ ?s <https://w3id.org/statecraft/ontology#citedSource> ?o }}
                                  FILTER (?g != <{GRAPH}inferred>) }}""")
    assert not ask(store, f"""ASK {{ GRAPH <{GRAPH}inferred> {{ ?s ?p ?o }}
        FILTER (STRSTARTS(STR(?s), "http://www.wikidata.org/") || STRSTARTS(STR(?o), "http://www.wikidata.org/")) }}""")


def _verified_wikidata() -> dict[str, str]:
    table = (shared() / "reference" / "wikidata-ids.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([^|]+) \| (Q\d+|—) \| (\w+) \|", table, flags=re.M)
    assert len(rows) > 20, "the Wikidata reference table was not found or not parsed"
    return {qid: name.strip() for name, qid, status in rows if status == "verified"}


def test_only_verified_wikidata_identifiers_are_linked(built):
    verified = _verified_wikidata()
    union = built.result.assembly.union()
    linked = {str(o).rsplit("/", 1)[-1]: s for s, o in union.subject_objects(OWL.sameAs)}
    assert linked, "no owl:sameAs found"
    for qid, entity in linked.items():
        assert qid in verified, f"{entity} is linked to {qid}, which is not marked verified"
    assert "Q11208" not in linked  # the Pentagon building, not the department
    assert "Q3159" not in linked   # the city of Kursk, not the oblast


def test_reconciliation_lists_the_unknown_entities(built):
    report = json.loads((built.dist / "build-report.json").read_text(encoding="utf-8"))
    labels = {entry["label"] for entry in report["unlinked_entities"]}
    for unknown in ("Yoon Suk Yeol", "Andrzej Duda", "Sabrina Singh", "Kim Soo-kyung", "Yonhap News Agency",
                    "Asia-Pacific", "K2 tank", "Ministry of Unification (South Korea)",
                    "Comprehensive Strategic Partnership Agreement (Russia–North Korea)",
                    "2024 United States presidential election", "intercontinental ballistic missile technology"):
        assert unknown in labels, unknown
    for linked in ("Vladimir Putin", "Kursk Oblast", "Russia", "The Guardian"):
        assert linked not in labels, linked


FACTS = f"data/articles/{SLUG}/facts.ttl"


def test_syntax_error_names_file_line_and_column_and_leaves_dist_alone(tmp_path):
    root = copy_project(tmp_path / "project")
    dist = root / "dist"
    dist.mkdir()
    (dist / "marker").write_text("previous build")
    path = edit(root, FACTS, 'sc:personnelCount 10000 ;', 'sc:personnelCount 10000 ;;; "unterminated')
    line = next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "unterminated" in l)
    result = run_cli("--root", str(root), "build")
    assert result.returncode == 2
    assert re.search(rf"facts\.ttl:{line}:\d+: syntax error", result.stderr), result.stderr
    assert [p.name for p in dist.iterdir()] == ["marker"]
    assert not any(p.name.startswith(".dist-") for p in root.iterdir())


@pytest.mark.parametrize("old, new, expected", [
    ("Kim Soo-kyung said that Russia’s long-running war", "Kim Soo-kyung said that Russia's long-running war",
     r"differs from the article only in its quotation marks.*\"'\" in the quote"),
    ("oa:exact \"the two leaders held a summit\"", "oa:exact \"the two leaders held a meeting\"",
     r"does not occur in the article text\. Nearest passage: “the two leaders held a summit"),
    ("oa:exact \"South Korean President Yoon Suk Yeol\" ; oa:suffix \" stated\"",
     "oa:exact \"South Korean President Yoon Suk Yeol\"",
     r"occurs 2 times; add oa:prefix or oa:suffix"),
])
def test_a_quote_that_does_not_anchor_stops_the_build(tmp_path, old, new, expected):
    root = copy_project(tmp_path / "project")
    edit(root, FACTS, old, new)
    result = run_cli("--root", str(root), "build")
    assert result.returncode == 1
    assert "facts.ttl: https://w3id.org/statecraft/id/" in result.stderr, result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert not (root / "dist").exists()


SECOND_ARTICLE = """@prefix sc:      <https://w3id.org/statecraft/ontology#> .
@prefix oa:      <http://www.w3.org/ns/oa#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix state:   <https://w3id.org/statecraft/id/state/> .

<https://w3id.org/statecraft/id/article/second-article> a sc:Article ;
    dcterms:title "A second article"@en ; rdfs:label "A second article"@en .

<https://w3id.org/statecraft/id/aid/poland-humanitarian-aid-to-ukraine-test> a sc:Aid ;
    rdfs:label "Poland's humanitarian aid to Ukraine"@en ;
    sc:donor state:poland ; sc:beneficiary state:ukraine ; sc:aidKind sc:HumanitarianAid ;
    sc:epistemicStatus sc:AssertedByAuthor ;
    sc:hasEvidence [ oa:exact "Poland has sent humanitarian aid to Ukraine" ] .
"""


def test_a_second_article_is_just_a_folder(tmp_path):
    root = copy_project(tmp_path / "project")
    folder = root / "data" / "articles" / "second-article"
    folder.mkdir()
    (folder / "article.txt").write_text("Poland has sent humanitarian aid to Ukraine. Nothing else happened.\n")
    (folder / "facts.ttl").write_text(SECOND_ARTICLE, encoding="utf-8")
    result = run_cli("--root", str(root), "build")
    assert result.returncode == 0, result.stdout + result.stderr
    dataset = Dataset()
    dataset.parse(root / "dist" / "statecraft.trig", format="trig")
    second = dataset.graph(URIRef(GRAPH + "article/second-article"))
    aid = URIRef("https://w3id.org/statecraft/id/aid/poland-humanitarian-aid-to-ukraine-test")
    assert (aid, URIRef("https://w3id.org/statecraft/ontology#extractedFrom"),
            URIRef("https://w3id.org/statecraft/id/article/second-article")) in second
    assert (URIRef("https://w3id.org/statecraft/id/evidence/second-article/0-43"), RDF.type,
            URIRef("https://w3id.org/statecraft/ontology#EvidenceSpan")) in second
    # the reference entities are shared, not copied into the article's graph
    assert (URIRef("https://w3id.org/statecraft/id/state/poland"), None, None) not in second
    assert "second-article: 1 sentence(s) without evidence, 1 of them with a claim" in result.stdout
