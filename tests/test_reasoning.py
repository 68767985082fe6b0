"""materialise(): the inferred triples the queries need, and nothing else."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import rdflib
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS

from statecraft.namespaces import OA, SC, SCHEMA, SEM, WD
from statecraft.reason import ReasoningError, hermit_inferences, is_wikidata_iri, materialise

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "statecraft.ttl"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ontology"
RULES = FIXTURES / "rules"
ID = Namespace("https://w3id.org/statecraft/id/")

DEPLOYMENT = ID["fact/deployment-1"]
STATEMENT = ID["statement/1"]
NORTH_KOREA, RUSSIA = ID["state/north-korea"], ID["state/russia"]
PUTIN = ID["person/putin"]
ARTICLE, NOTE, SOURCE = ID["article/a"], ID["note/a/1"], ID["source/reuters-1"]
EVIDENCE = ID["evidence/a/0-10"]


@pytest.fixture(scope="module")
def asserted() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY)
    g.parse(FIXTURES / "reasoning.ttl")
    return g


@pytest.fixture(scope="module")
def inferred(asserted) -> Graph:
    return materialise(asserted, RULES)


def test_types_follow_the_class_hierarchy(inferred):
    for cls in (SC.Fact, SC.Record, SC.Event, SEM.Event, SCHEMA.Event):
        assert (DEPLOYMENT, RDF.type, cls) in inferred
    for cls in (SC.Actor, PROV.Agent, SCHEMA.Country):
        assert (NORTH_KOREA, RDF.type, cls) in inferred
    assert (STATEMENT, RDF.type, SCHEMA.Claim) in inferred
    assert (EVIDENCE, RDF.type, OA.SpecificResource) in inferred
    assert (SC.ReportedBySource, RDF.type, SKOS.Concept) in inferred  # vocabulary individuals too


def test_inverses_in_both_directions(inferred):
    assert (PUTIN, SC.madeStatement, STATEMENT) in inferred       # speaker owl:inverseOf madeStatement
    assert (NOTE, SC.noteOf, ARTICLE) in inferred                  # hasNote stated: noteOf inferred
    assert (ARTICLE, SC.hasRecord, DEPLOYMENT) in inferred
    assert (EVIDENCE, SC.isEvidenceFor, STATEMENT) in inferred
    assert (NORTH_KOREA, SC.participatesIn, DEPLOYMENT) in inferred  # inverse of the super-property


def test_symmetric_property(inferred):
    assert (RUSSIA, SC.alignedWith, NORTH_KOREA) in inferred


def test_sub_properties_up_to_external_vocabularies(inferred):
    assert (DEPLOYMENT, SC.hasParticipant, NORTH_KOREA) in inferred
    assert (DEPLOYMENT, SEM.hasActor, NORTH_KOREA) in inferred
    assert (DEPLOYMENT, SEM.hasPlace, ID["region/kursk"]) in inferred
    assert (STATEMENT, PROV.wasAttributedTo, PUTIN) in inferred
    assert (STATEMENT, SCHEMA.about, DEPLOYMENT) in inferred
    assert (DEPLOYMENT, PROV.wasDerivedFrom, EVIDENCE) in inferred
    dates = list(inferred.objects(DEPLOYMENT, SEM.hasTimeStamp))               # a datatype property
    assert dates == [Literal("2024-10", datatype=rdflib.XSD.gYearMonth)]


def test_property_chain_cited_note_then_cites_source(inferred):
    assert (DEPLOYMENT, SC.citedSource, SOURCE) in inferred
    assert (DEPLOYMENT, PROV.hadPrimarySource, SOURCE) in inferred   # its super-property
    assert (SOURCE, SC.isCitedFor, DEPLOYMENT) in inferred           # and its inverse
    assert (STATEMENT, SC.citedSource, None) not in inferred         # the statement has no note


def test_construct_rules_and_what_follows_from_them(inferred):
    assert (NORTH_KOREA, SC.deployedTroopsTo, RUSSIA) in inferred
    assert (RUSSIA, SC.receivedTroopsFrom, NORTH_KOREA) in inferred  # inverse of a rule's triple
    assert (ARTICLE, SC.mentions, RUSSIA) in inferred                # rule over inferred triples
    assert (RUSSIA, SC.mentionedIn, ARTICLE) in inferred


def test_no_inferred_triple_touches_a_wikidata_iri(asserted, inferred):
    assert (NORTH_KOREA, OWL.sameAs, WD.Q423) in asserted
    bad = [t for t in inferred if is_wikidata_iri(t[0]) or is_wikidata_iri(t[2])]
    assert bad == []
    assert not list(inferred.triples((None, OWL.sameAs, None)))


def test_wikidata_iri_as_an_object_is_not_copied_along_properties(asserted):
    g = Graph() + asserted
    g.add((STATEMENT, SC.about, WD.Q159))           # sub-property of schema:about, inverse subjectOf
    g.add((WD.Q159, SC.memberOf, WD.Q7184))         # a statement about a Wikidata IRI
    inferred = materialise(g, RULES)
    assert [t for t in inferred if is_wikidata_iri(t[0]) or is_wikidata_iri(t[2])] == []


def test_nothing_already_asserted(asserted, inferred):
    assert len(inferred) > 0
    assert [t for t in inferred if t in asserted] == []


def test_nothing_about_the_ontologys_terms_no_literals_no_reflexive_triples(asserted, inferred):
    terms = set(asserted.subjects(RDF.type, OWL.Class)) | set(asserted.subjects(
        RDF.type, OWL.ObjectProperty)) | set(asserted.subjects(RDF.type, OWL.DatatypeProperty)) \
        | set(asserted.subjects(RDF.type, OWL.AnnotationProperty)) | {URIRef(str(SC)[:-1])}
    assert [t for t in inferred if t[0] in terms] == []
    assert [t for t in inferred if isinstance(t[0], Literal)] == []
    assert [t for t in inferred if t[0] == t[2]] == []
    assert not list(inferred.triples((None, RDF.type, OWL.Thing)))
    assert not list(inferred.triples((None, RDF.type, OWL.NamedIndividual)))


def test_no_typing_from_domain_or_range(asserted):
    """rdfs:domain / rdfs:range typing would hide the SHACL error of an untyped node."""
    g = Graph() + asserted
    untyped_speaker, untyped_statement = ID["person/untyped"], ID["statement/untyped"]
    g.add((untyped_statement, SC.speaker, untyped_speaker))
    inferred = materialise(g)
    assert not list(inferred.triples((untyped_speaker, RDF.type, None)))
    assert not list(inferred.triples((untyped_statement, RDF.type, None)))
    assert (untyped_speaker, SC.madeStatement, untyped_statement) in inferred


def test_materialise_is_deterministic(asserted, inferred):
    again = materialise(asserted, RULES)
    assert set(again) == set(inferred)
    shuffled = list(asserted)
    random.Random(7).shuffle(shuffled)
    g = Graph()
    for t in shuffled:
        g.add(t)
    assert set(materialise(g, RULES)) == set(inferred)


def test_materialise_reads_every_graph_of_a_dataset(asserted, inferred):
    ds = rdflib.Dataset()
    ds.graph(URIRef("urn:g:ontology")).parse(ONTOLOGY)
    ds.graph(URIRef("urn:g:data")).parse(FIXTURES / "reasoning.ttl")
    assert set(materialise(ds, RULES)) == set(inferred)


def test_materialise_without_rules(asserted, inferred):
    plain = materialise(asserted)
    assert (NORTH_KOREA, SC.deployedTroopsTo, RUSSIA) not in plain
    assert set(plain) < set(inferred)


def test_property_chains_of_any_length():
    g = Graph()
    p1, p2, p3, chained = SC.p1, SC.p2, SC.p3, SC.chained
    for p in (p1, p2, p3, chained):
        g.add((p, RDF.type, OWL.ObjectProperty))
    head = BNode()
    rdflib.collection.Collection(g, head, [p1, p2, p3])
    g.add((chained, OWL.propertyChainAxiom, head))
    a, b, c, d = (ID[f"x/{n}"] for n in "abcd")
    g.add((c, p3, d))          # asserted out of order on purpose
    g.add((a, p1, b))
    g.add((b, p2, c))
    inferred = materialise(g)
    assert set(inferred) == {(a, chained, d)}  # the auxiliary links are not emitted


def _write_rule(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize("text, message", [
    ("PREFIX sc: <https://w3id.org/statecraft/ontology#>\n"
     "CONSTRUCT { [] sc:mentions ?x } WHERE { ?x a sc:State }", "blank nodes"),
    ("SELECT * WHERE { ?s ?p ?o }", "not a CONSTRUCT"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ", "does not parse"),
])
def test_unusable_rules_are_refused(tmp_path, asserted, text, message):
    rules = _write_rule(tmp_path / "rules", "bad.rq", text)
    with pytest.raises(ReasoningError, match=message):
        materialise(asserted, rules)


def test_rule_output_is_filtered_like_everything_else(tmp_path, asserted):
    rules = _write_rule(tmp_path / "rules", "copy.rq", """
        PREFIX sc: <https://w3id.org/statecraft/ontology#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        CONSTRUCT { ?wd sc:alignedWith ?x . ?x sc:alignedWith ?x . sc:State sc:mentions ?x }
        WHERE { ?x owl:sameAs ?wd }""")
    inferred = materialise(asserted, rules)
    assert [t for t in inferred if is_wikidata_iri(t[0]) or is_wikidata_iri(t[2])] == []
    assert [t for t in inferred if t[0] == t[2] or t[0] == SC.State] == []


def test_hermit_infers_nothing_about_statecraft_individuals_that_materialise_misses(
        asserted, inferred):
    """HermiT (with property values) against materialise(). The fixture types every node as the
    SHACL shapes require, so domain/range typing adds nothing. The only HermiT inferences left
    out are those it copies along owl:sameAs onto Wikidata IRIs, which the project forbids."""
    hermit = hermit_inferences(asserted)
    assert len(hermit) > 0
    ours = [t for t in hermit if str(t[0]).startswith("https://w3id.org/statecraft/")
            and not is_wikidata_iri(t[2])]
    missing = [t for t in ours if t not in asserted and t not in inferred]
    assert missing == []
    copied = [t for t in hermit if is_wikidata_iri(t[0]) or is_wikidata_iri(t[2])]
    assert copied, "the fixture's owl:sameAs links should make HermiT copy facts to Wikidata IRIs"


def test_materialise_scales_linearly_enough():
    """~20k asserted triples in a few seconds (the real graph is ~10k)."""
    g = Graph()
    g.parse(ONTOLOGY)
    states = [ID[f"state/{i}"] for i in range(100)]
    for s in states:
        g.add((s, RDF.type, SC.State))
    for i in range(2000):
        d, note = ID[f"fact/{i}"], ID[f"note/{i % 50}"]
        g.add((d, RDF.type, SC.MilitaryDeployment))
        g.add((d, SC.sendingState, states[i % 100]))
        g.add((d, SC.receivingState, states[(7 * i + 1) % 100]))
        g.add((d, SC.epistemicStatus, SC.ReportedBySource))
        g.add((d, SC.citedNote, note))
        g.add((note, SC.citesSource, ID[f"source/{i % 30}"]))
        st = ID[f"statement/{i}"]
        g.add((st, RDF.type, SC.Statement))
        g.add((st, SC.speaker, states[i % 100]))
        g.add((st, SC.about, d))
    t0 = time.perf_counter()
    inferred = materialise(g, RULES)
    seconds = time.perf_counter() - t0
    assert len(inferred) > 2 * (len(g) - 1000)
    assert seconds < 15, f"{seconds:.1f} s for {len(g)} triples"
