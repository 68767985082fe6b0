"""The SHACL shapes in shapes/, tested on small fixtures and on the ontology itself.

Each fixture in tests/fixtures/shapes/ is named after the shape file it tests (integrity-*,
recommended-*, ontology-*). Its header comment lists every result it must produce, as the shape
and the path ("-" for a SPARQL constraint without one):

    # expect: scsh:Deployment-distinctStates sc:sendingState          (a Violation)
    # expect-warning: scsh:VisitRecommended-host sc:host               (a Warning)
    # ontology: self    (the fixture is an ontology document: validate it without ontology/statecraft.ttl)

A fixture must produce exactly the results it lists; a valid fixture lists none and produces none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from statecraft.namespaces import ID, SC, SH
from statecraft.validate import (
    SCSH,
    ValidationResult,
    format_node,
    format_path,
    format_result,
    load_shapes,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent
SHAPES_DIR = ROOT / "shapes"
ONTOLOGY_FILE = ROOT / "ontology" / "statecraft.ttl"
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
SHAPE_FILES = ["integrity", "recommended", "ontology"]

# A plain Namespace: pytest probes module attributes while collecting, and rdflib's XSD warns on those.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(SHAPES_DIR)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE)


@dataclass
class Header:
    violations: set[tuple[str, str]] = field(default_factory=set)
    warnings: set[tuple[str, str]] = field(default_factory=set)
    ontology_self: bool = False


def read_header(path: Path) -> Header:
    header = Header()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, rest = line.lstrip("# ").partition(":")
        if key in ("expect", "expect-warning"):
            shape, shape_path = rest.split()
            (header.violations if key == "expect" else header.warnings).add((shape, shape_path))
        elif key == "ontology":
            assert rest.strip() == "self", f"{path.name}: unknown directive {line!r}"
            header.ontology_self = True
    return header


def run_fixture(path: Path, shapes: Graph, ontology: Graph):
    header = read_header(path)
    data = Graph().parse(path, format="turtle")
    return header, validate(data, shapes, None if header.ontology_self else ontology)


def pairs(results: list[ValidationResult]) -> set[tuple[str, str]]:
    return {(format_node(r.source_shape), format_path(r.path)) for r in results}


def report(results: list[ValidationResult]) -> str:
    return "\n".join(format_result(r) for r in results) or "(no results)"


# --- fixtures ----------------------------------------------------------------------------------


def test_fixture_globs_find_files():
    assert VALID, f"no valid fixtures in {FIXTURES / 'valid'}"
    assert INVALID, f"no invalid fixtures in {FIXTURES / 'invalid'}"


@pytest.mark.parametrize("shape_file", SHAPE_FILES)
def test_each_shape_file_has_valid_and_invalid_fixtures(shape_file):
    assert (SHAPES_DIR / f"{shape_file}.ttl").is_file()
    assert [p for p in VALID if p.name.startswith(f"{shape_file}-")], f"no valid fixture for {shape_file}.ttl"
    assert [p for p in INVALID if p.name.startswith(f"{shape_file}-")], f"no invalid fixture for {shape_file}.ttl"


def test_every_fixture_is_named_after_a_shape_file():
    for path in VALID + INVALID:
        assert path.name.split("-")[0] in SHAPE_FILES, path.name


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_conforms(path, shapes, ontology):
    header, outcome = run_fixture(path, shapes, ontology)
    assert not header.violations and not header.warnings, "a valid fixture expects no results"
    assert outcome.conforms, report(outcome.violations)
    assert not outcome.results, report(outcome.results)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_as_expected(path, shapes, ontology):
    header, outcome = run_fixture(path, shapes, ontology)
    assert header.violations or header.warnings, f"{path.name} states no expected result"
    if path.name.startswith("recommended-"):
        assert not header.violations, "a fixture for recommended.ttl expects only warnings"
    assert pairs(outcome.violations) == header.violations, report(outcome.results)
    assert pairs(outcome.warnings) == header.warnings, report(outcome.results)
    assert outcome.conforms == (not header.violations)


def test_expected_shapes_exist(shapes):
    for path in INVALID:
        header = read_header(path)
        for shape, _ in header.violations | header.warnings:
            assert shape.startswith("scsh:"), f"{path.name}: {shape}"
            assert (SCSH[shape.removeprefix("scsh:")], None, None) in shapes, f"{path.name}: no shape {shape}"


# --- the ontology -----------------------------------------------------------------------------


def test_ontology_conforms_to_its_shapes(shapes, ontology):
    outcome = validate(ontology, shapes, None)
    assert not outcome.results, report(outcome.results)


def test_ontology_shapes_check_the_statecraft_terms(shapes, ontology):
    """The term shapes must reach the ontology's own terms: strip one definition and see."""
    stripped = Graph()
    stripped += ontology
    stripped.remove((SC.MilitaryDeployment, SKOS.definition, None))
    outcome = validate(stripped, shapes, None)
    assert [(r.focus, format_node(r.source_shape)) for r in outcome.results] == [
        (SC.MilitaryDeployment, "scsh:OntologyTerm-definition")
    ]


# --- the shapes themselves -------------------------------------------------------------------

CONSTRAINT_PARAMETERS = {
    SH[name] for name in (
        "class datatype nodeKind minCount maxCount minExclusive minInclusive maxExclusive maxInclusive "
        "minLength maxLength pattern languageIn uniqueLang equals disjoint lessThan lessThanOrEquals "
        "not and or xone node qualifiedValueShape closed hasValue in sparql"
    ).split()
}


def named_shapes(graph: Graph) -> set[URIRef]:
    found = set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
    found |= set(graph.objects(None, SH.property))
    return {s for s in found if not isinstance(s, BNode)}


def test_every_constraint_has_a_message(shapes):
    missing = []
    for shape in named_shapes(shapes) | set(shapes.objects(None, SH.property)):
        direct = {p for p in shapes.predicates(shape) if p in CONSTRAINT_PARAMETERS}
        if not direct or (shape, SH.message, None) in shapes:
            continue
        sparql = list(shapes.objects(shape, SH.sparql))
        if direct == {SH.sparql} and all((c, SH.message, None) in shapes for c in sparql):
            continue
        missing.append(format_node(shape))
    for constraint in shapes.objects(None, SH.sparql):
        owner = shapes.value(None, SH.sparql, constraint)
        if (constraint, SH.message, None) not in shapes and (owner, SH.message, None) not in shapes:
            missing.append(f"SPARQL constraint of {format_node(owner)}")
    assert not missing, f"constraints without sh:message: {sorted(missing)}"


def test_every_property_shape_is_named_in_the_shapes_namespace(shapes):
    for shape in set(shapes.objects(None, SH.property)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
        assert isinstance(shape, URIRef) and shape.startswith(str(SCSH)), f"property shape {shape!r}"
    for shape in named_shapes(shapes):
        assert shape.startswith(str(SCSH)), shape


@pytest.mark.parametrize("shape_file", SHAPE_FILES)
def test_severities(shape_file):
    graph = load_shapes(SHAPES_DIR / f"{shape_file}.ttl")
    severities = {format_node(s): graph.value(s, SH.severity) for s in named_shapes(graph)}
    if shape_file == "recommended":
        assert all(v == SH.Warning for v in severities.values()), severities
    elif shape_file == "integrity":
        assert all(v in (None, SH.Violation) for v in severities.values()), severities
    else:
        assert {k for k, v in severities.items() if v == SH.Warning} == {"scsh:Ontology-bibliographicCitation"}


def test_shape_files_do_not_redefine_each_others_shapes():
    seen = {}
    for shape_file in SHAPE_FILES:
        for shape in named_shapes(load_shapes(SHAPES_DIR / f"{shape_file}.ttl")):
            assert shape not in seen, f"{shape} is in {seen.get(shape)}.ttl and {shape_file}.ttl"
            seen[shape] = shape_file


# --- statecraft.validate -----------------------------------------------------------------------

FIXTURE_ARTICLE = FIXTURES / "valid" / "integrity-article.ttl"


def deployment_graph(date: Literal) -> Graph:
    graph = Graph().parse(FIXTURE_ARTICLE)
    graph.add((ID["record/deployment"], SC.date, date))
    return graph


def test_ill_typed_date_is_a_violation(shapes, ontology):
    """30 February matches the lexical pattern: only the datatype check (ill-typed literal) catches it."""
    date = Literal("2024-02-30", datatype=XSD.date)
    assert date.ill_typed
    outcome = validate(deployment_graph(date), shapes, ontology, focus_nodes=[ID["record/deployment"]])
    assert [(r.focus, r.value, format_node(r.source_shape)) for r in outcome.violations] == [
        (ID["record/deployment"], date, "scsh:Record-date")
    ]


@pytest.mark.parametrize("lexical, datatype", [
    ("2024-11-04", XSD.date), ("2024-11-04Z", XSD.date), ("2024-11", XSD.gYearMonth), ("2024", XSD.gYear),
])
def test_valid_dates(shapes, ontology, lexical, datatype):
    outcome = validate(deployment_graph(Literal(lexical, datatype=datatype)), shapes, ontology,
                       focus_nodes=[ID["record/deployment"]])
    assert outcome.conforms, report(outcome.results)


def test_focus_nodes_limit_validation(shapes, ontology):
    graph = Graph().parse(FIXTURES / "invalid" / "integrity-summit-one-attendee.ttl")
    outcome = validate(graph, shapes, ontology, focus_nodes=[ID["record/summit"]])
    assert [format_node(r.focus) for r in outcome.results] == ["id:record/summit"]


def test_dataset_graphs_are_merged(shapes, ontology):
    dataset = Dataset()
    named = dataset.graph(URIRef("https://w3id.org/statecraft/graph/article/fixture"))
    named.parse(FIXTURES / "invalid" / "integrity-deployment-same-states.ttl")
    outcome = validate(dataset, shapes, ontology)
    assert pairs(outcome.violations) == {("scsh:Deployment-distinctStates", "sc:sendingState")}


def test_results_are_sorted_and_stable(shapes, ontology):
    graph = Graph().parse(FIXTURES / "invalid" / "integrity-date-ill-typed.ttl")
    first = validate(graph, shapes, ontology).results
    assert first == validate(graph, shapes, ontology).results
    assert [str(r.focus) for r in first] == sorted(str(r.focus) for r in first)


def test_format_result(shapes, ontology):
    graph = Graph().parse(FIXTURES / "invalid" / "integrity-deployment-same-states.ttl")
    [result] = validate(graph, shapes, ontology).results
    assert format_result(result) == (
        "Violation  id:record/deployment  path=sc:sendingState  value=id:state/north-korea"
        "  — A deployment has a sender and a host that differ: the sending state (sc:sendingState)"
        " cannot also be the receiving state (sc:receivingState).  [scsh:Deployment-distinctStates]"
    )
    assert format_result(result, {"ex": "https://w3id.org/statecraft/id/record/"}).startswith(
        "Violation  ex:deployment  path=sc:sendingState  value=id:state/north-korea"
    )


def test_format_node_and_path():
    assert format_node(None) == "-"
    assert format_node(Literal("2024-13-45", datatype=XSD.date)) == '"2024-13-45"^^xsd:date'
    assert format_node(Literal("a \"b\"\nc", lang="en")) == '"a \\"b\\"\\nc"@en'
    assert format_node(URIRef("https://example.org/x")) == "<https://example.org/x>"
    assert format_path(RDFS.label) == "rdfs:label"
    assert format_path(SC.quotation | SC.paraphrase) == "sc:quotation|sc:paraphrase"
    assert format_path(~SC.speaker / RDFS.label) == "^sc:speaker/rdfs:label"


def test_messages_of_sparql_constraints_name_the_problem(shapes, ontology):
    graph = Graph().parse(FIXTURES / "invalid" / "integrity-evidence-slice-mismatch.ttl")
    [result] = validate(graph, shapes, ontology).violations
    assert result.message == (
        'The offsets 58–109 do not slice the article to the quote "North Korea had sent 10,000 troops'
        ' to Russia": the article reads "North Korea had sent nearly 10,000 troops to Russia" there.'
    )


def test_every_class_the_data_uses_has_a_shape(shapes, ontology):
    """Each sc: class instantiated in data/ is the target class of a shape, itself or through a superclass."""
    data_files = sorted((ROOT / "data").rglob("*.ttl"))
    assert data_files
    used = set()
    for path in data_files:
        used |= {o for o in Graph().parse(path).objects(None, RDF.type) if str(o).startswith(str(SC))}
    used |= {SC.EvidenceSpan}  # written by the build, not the curators
    assert len(used) > 20
    targets = set(shapes.objects(None, SH.targetClass))
    uncovered = {cls for cls in used if not set(ontology.transitive_objects(cls, RDFS.subClassOf)) & targets}
    assert not uncovered, sorted(uncovered)
