"""The ontology: OWL consistency (HermiT), OOPS! pitfalls, declared terms, metadata, pyLODE docs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF

from statecraft import quality
from statecraft.namespaces import ONTOLOGY_IRI, SC, VANN
from statecraft.reason import ReasoningError, check_consistency

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "statecraft.ttl"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ontology"
PITFALL_FIXTURES = FIXTURES / "pitfalls"


def _load(*paths: Path) -> Graph:
    g = Graph()
    for p in paths:
        g.parse(p)
    return g


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return _load(ONTOLOGY)


@pytest.fixture(scope="module")
def pitfall_findings(ontology) -> list[quality.Finding]:
    return quality.run_pitfall_checks(ontology)


# ---------------------------------------------------------------------------------------------
# HermiT
# ---------------------------------------------------------------------------------------------

def test_hermit_finds_the_ontology_consistent(ontology):
    report = check_consistency(ontology)
    assert report.consistent, report.detail
    assert report.unsatisfiable == [], report.detail
    assert report.seconds > 0


def test_hermit_finds_a_person_who_is_a_state_inconsistent():
    report = check_consistency(_load(ONTOLOGY, FIXTURES / "contradictory.ttl"))
    assert not report.consistent
    assert "inconsistent" in report.detail


def test_hermit_reports_a_class_below_two_disjoint_classes_unsatisfiable():
    report = check_consistency(_load(ONTOLOGY, FIXTURES / "unsatisfiable.ttl"))
    assert report.consistent, report.detail
    assert report.unsatisfiable == [str(SC.PersonState)]


def test_consistency_check_accepts_a_dataset():
    ds = rdflib.Dataset()
    ds.graph(URIRef("urn:g:ontology")).parse(ONTOLOGY)
    ds.graph(URIRef("urn:g:data")).parse(FIXTURES / "contradictory.ttl")
    assert not check_consistency(ds).consistent


def test_consistency_check_without_java_says_so(monkeypatch, ontology):
    import owlready2

    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/bin/java")
    with pytest.raises(ReasoningError, match="Java"):
        check_consistency(ontology)


def test_consistency_check_prints_nothing(ontology, capfd):
    check_consistency(ontology)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# ---------------------------------------------------------------------------------------------
# OOPS! pitfalls
# ---------------------------------------------------------------------------------------------

def test_one_query_per_pitfall():
    assert sorted(quality.pitfall_queries()) == sorted(quality.PITFALLS)


@pytest.mark.parametrize("code", quality.PITFALLS)
def test_pitfall_absent_from_the_ontology(code, pitfall_findings):
    found = [f for f in pitfall_findings if f.pitfall == code]
    assert found == [], "\n".join(f"{f.term}: {f.reason}" for f in found)


def test_allowlist_has_no_stale_entries(pitfall_findings):
    stale = [f for f in pitfall_findings if f.pitfall == quality.STALE]
    assert stale == [], "\n".join(f"{f.term}: {f.reason}" for f in stale)


def test_allowlist_entries_have_reasons():
    entries = quality.load_allowlist(quality.QUALITY_DIR / "allowlist.csv")  # raises if not
    assert all(e.reason for e in entries)


P = str(SC)
BAD = {
    "P04": {P + "Orphan", P + "orphanProperty"},
    "P08": {P + "Unlabelled", P + "undefined"},
    "P11": {P + "noRange", P + "noDomain"},
    "P13": {P + "relatesTo"},
    "P19": {P + "twoDomains", P + "twoRanges"},
    "P22": {P + "lowerClass", P + "Snake_Class", P + "UpperProperty", P + "snake_property"},
    "P32": {P + "Treaty", P + "Pact", P + "signs", P + "Signs"},
    "P34": {P + "Undeclared", P + "AlsoUndeclared", "https://schema.org/Thing"},
    "P35": {P + "undeclared", P + "superUndeclared", "https://schema.org/name"},
    "P38": {str(ONTOLOGY_IRI)},
    "P41": {str(ONTOLOGY_IRI)},
}


def test_every_pitfall_has_a_bad_fixture():
    assert sorted(BAD) == sorted(quality.PITFALLS)
    assert sorted(p.stem for p in PITFALL_FIXTURES.glob("*.ttl")) == sorted(quality.PITFALLS)


@pytest.mark.parametrize("code", sorted(BAD))
def test_pitfall_check_finds_its_bad_fixture(code):
    """Each check finds exactly the planted terms: the fixtures also hold look-alikes that must
    not be reported (a subclass, an inverse stated once, a property named after its class…)."""
    query = quality.pitfall_queries()[code]
    findings = quality.run_pitfall_check(_load(PITFALL_FIXTURES / f"{code}.ttl"), query)
    assert {f.term for f in findings} == BAD[code]
    assert all(f.pitfall == code and f.reason for f in findings)


def _write_allowlist(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["pitfall", "term", "reason"])
        w.writerows(rows)
    return path


def test_allowlist_drops_allowed_findings_and_reports_stale_entries(tmp_path):
    fixture = _load(PITFALL_FIXTURES / "P13.ttl")
    allow = _write_allowlist(tmp_path / "allow.csv", [
        ["P13", "sc:relatesTo", "test: intended"],
        ["P13", P + "gone", "test: matches nothing any more"],
    ])
    findings = quality.run_pitfall_checks(fixture, allowlist=allow)
    assert not [f for f in findings if f.pitfall == "P13"]
    stale = [f for f in findings if f.pitfall == quality.STALE]
    assert [f.term for f in stale] == [P + "gone"]
    assert "stale" in stale[0].reason


@pytest.mark.parametrize("row, message", [
    (["P13", "sc:relatesTo", ""], "reason"),
    (["P99", "sc:relatesTo", "why"], "unknown pitfall"),
    (["P13", "", "why"], "no term"),
])
def test_allowlist_rejects_bad_entries(tmp_path, row, message):
    allow = _write_allowlist(tmp_path / "allow.csv", [row])
    with pytest.raises(quality.AllowListError, match=message):
        quality.load_allowlist(allow)


# ---------------------------------------------------------------------------------------------
# Every sc: term used by the data and the shapes is declared
# ---------------------------------------------------------------------------------------------

def test_undeclared_terms_finds_subject_predicate_and_object(ontology):
    g = Graph()
    g.add((SC.NoSuchThing, RDF.type, SC.State))
    g.add((URIRef("urn:x"), SC.noSuchProperty, SC.NoSuchObject))
    g.add((URIRef("urn:x"), SC.speaker, Literal(str(SC.InALiteral))))  # a literal is not a use
    assert quality.undeclared_terms(ontology, [g]) == {
        SC.NoSuchThing, SC.noSuchProperty, SC.NoSuchObject}


def _project_files() -> list[Path]:
    files = sorted(
        set((ROOT / "data").glob("**/*.ttl")) | set((ROOT / "data").glob("**/*.trig"))
        | set((ROOT / "shapes").glob("*.ttl"))
    )
    return files


def test_data_and_shapes_use_only_declared_terms(ontology):
    files = _project_files()
    assert files, "no data/**/*.ttl, data/**/*.trig or shapes/*.ttl found"
    undeclared: dict[str, set] = {}
    for path in files:
        g = rdflib.Dataset() if path.suffix == ".trig" else Graph()
        g.parse(path, format="trig" if path.suffix == ".trig" else "turtle")
        missing = quality.undeclared_terms(ontology, [g])
        if missing:
            undeclared[str(path.relative_to(ROOT))] = sorted(missing)
    assert undeclared == {}


# ---------------------------------------------------------------------------------------------
# Metadata (FOOPS! minimum)
# ---------------------------------------------------------------------------------------------

def test_ontology_metadata(ontology):
    o = ONTOLOGY_IRI
    assert (o, RDF.type, OWL.Ontology) in ontology

    def one(p):
        values = list(ontology.objects(o, p))
        assert len(values) == 1, f"{p}: {values}"
        return values[0]

    assert str(one(DCTERMS.title)) == "Statecraft ontology"
    assert len(str(one(DCTERMS.description))) > 50
    assert isinstance(one(DCTERMS.license), URIRef)
    assert str(one(DCTERMS.creator))
    created, modified = one(DCTERMS.created), one(DCTERMS.modified)
    assert created.datatype == modified.datatype == rdflib.XSD.date
    assert created.toPython() <= modified.toPython()
    version = str(one(OWL.versionInfo))
    assert str(one(OWL.versionIRI)) == f"{o}/{version}"
    assert str(one(VANN.preferredNamespacePrefix)) == "sc"
    assert str(one(VANN.preferredNamespaceUri)) == str(SC)


# ---------------------------------------------------------------------------------------------
# pyLODE documentation
# ---------------------------------------------------------------------------------------------

def test_pylode_documents_the_ontology(tmp_path):
    import logging

    from statecraft.docs import generate_ontology_docs

    root_handlers = list(logging.getLogger().handlers)
    index = generate_ontology_docs(ONTOLOGY, tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    html = index.read_text(encoding="utf-8")
    for text in ("Statecraft ontology", "Military deployment", "speaker", "Reference note",
                 "has participant", "https://creativecommons.org/licenses/by/4.0/"):
        assert text in html, text
    assert logging.getLogger().handlers == root_handlers  # pyLODE's basicConfig undone
