"""The curation journal: every committed write, as PROV, in its own graph.

    id:change/<uuid> a sc:CuratedChange ;          # rdfs:subClassOf prov:Activity
        sc:changeSequence 3 ;
        prov:wasAssociatedWith id:curator/<name> ;  # the token's name, never the token
        prov:startedAtTime "…"^^xsd:dateTime ; prov:endedAtTime "…"^^xsd:dateTime ;
        sc:changeRequest "DELETE DATA { … }" ;
        sc:insertedQuads "<s> <p> <o> <g> .\n…" ; sc:deletedQuads "…" .

The inserted and deleted quads are N-Quads literals, not triples in graphs: as triples they would
join the union default graph, and a deleted statement would still answer queries.
`statecraft export-curated` writes this graph to data/curated/journal.trig; the build replays it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from .namespaces import BASE, GRAPH, SC

JOURNAL_GRAPH = str(GRAPH["journal"])
CHANGE_CLASS = str(SC.CuratedChange)
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def nquads(quads) -> str:
    """Quads as an N-Quads document, sorted so that the same change always reads the same."""
    return "".join(sorted(f"{quad} .\n" for quad in quads))


def parse_nquads(text: str) -> list[ox.Quad]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS)) if text else []


def last_sequence(store: ox.Store) -> int:
    graph = ox.NamedNode(JOURNAL_GRAPH)
    numbers = [int(quad.object.value) for quad in store.quads_for_pattern(None, ox.NamedNode(str(SC.changeSequence)),
                                                                           None, graph)]
    return max(numbers, default=0)


def entry(sequence: int, agent: str, request: str, started: datetime, inserted, deleted) -> tuple[str, list[ox.Quad]]:
    """The journal quads of one change, and the change's IRI."""
    change = ox.NamedNode(f"{BASE}id/change/{uuid.uuid4().hex}")
    curator = ox.NamedNode(f"{BASE}id/curator/{agent}")
    graph = ox.NamedNode(JOURNAL_GRAPH)
    ended = datetime.now(timezone.utc)

    def stamp(moment: datetime) -> str:   # whole seconds: HermiT refuses the fractions rdflib writes back
        return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

    def literal(value, datatype=None):
        return ox.Literal(value, datatype=datatype) if datatype else ox.Literal(value)

    triples = [
        (change, RDF_TYPE, ox.NamedNode(CHANGE_CLASS)),
        (change, ox.NamedNode(str(SC.changeSequence)), literal(str(sequence), XSD_INTEGER)),
        (change, ox.NamedNode(PROV + "wasAssociatedWith"), curator),
        (change, ox.NamedNode(PROV + "startedAtTime"), literal(stamp(started), XSD_DATETIME)),
        (change, ox.NamedNode(PROV + "endedAtTime"), literal(stamp(ended), XSD_DATETIME)),
        (change, ox.NamedNode(str(SC.changeRequest)), literal(request)),
        (change, ox.NamedNode(str(SC.insertedQuads)), literal(nquads(inserted))),
        (change, ox.NamedNode(str(SC.deletedQuads)), literal(nquads(deleted))),
        (curator, RDF_TYPE, ox.NamedNode(PROV + "Agent")),
        (curator, RDFS_LABEL, literal(agent)),
    ]
    return change.value, [ox.Quad(s, p, o, graph) for s, p, o in triples]


# --------------------------------------------------------------------------------------------
# Curated changes as sources: export from a store, replay in the build
# --------------------------------------------------------------------------------------------

CURATED_FILE = "data/curated/journal.trig"


class CuratedError(Exception):
    """The curated changes cannot be exported or replayed; the message says which and why."""


def journal_quads(generation) -> list[ox.Quad]:
    store = ox.Store.read_only(str(generation))
    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(JOURNAL_GRAPH)))


def export_curated(store_root, project_root) -> tuple[Path, int]:
    """Write the journal of the store's current generation, merged with the changes already in the
    sources, to data/curated/journal.trig; returns the file and the number of changes in it."""
    from .generations import Generations
    project_root = Path(project_root)
    target = project_root / CURATED_FILE
    quads = set(journal_quads(Generations(Path(store_root)).current()))
    if target.is_file():
        try:
            quads |= {ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(JOURNAL_GRAPH))
                      for q in ox.parse(path=str(target), format=ox.RdfFormat.TRIG)}
        except SyntaxError as error:
            raise CuratedError(f"{target}: cannot be read: {error}") from None
    changes = _changes(quads)
    for change in changes:
        for quad in parse_nquads(change.inserted) + parse_nquads(change.deleted):
            if isinstance(quad.graph_name, ox.DefaultGraph):
                raise CuratedError(
                    f"change {change.sequence} ({change.iri}) writes to the default graph, which the build does not "
                    "have: every statement of the dataset is in a named graph. Move those statements into a named "
                    "graph (SPARQL: MOVE DEFAULT TO <graph>) before exporting")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".trig.tmp")
    temporary.write_bytes(ox.serialize(sorted(quads, key=str), format=ox.RdfFormat.TRIG, prefixes={
        "sc": str(SC), "prov": PROV, "xsd": "http://www.w3.org/2001/XMLSchema#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}))
    temporary.replace(target)
    return target, len(changes)


@dataclass(frozen=True)
class Change:
    iri: str
    sequence: int
    ended: str
    inserted: str
    deleted: str


def _changes(quads) -> list[Change]:
    """The changes a journal records, in the order they were committed."""
    by_subject: dict = {}
    for quad in quads:
        by_subject.setdefault(quad.subject.value, {})[quad.predicate.value] = quad.object
    changes = []
    for iri, values in by_subject.items():
        if values.get(str(RDF_TYPE.value)) != ox.NamedNode(CHANGE_CLASS):
            continue
        try:
            changes.append(Change(iri, int(values[str(SC.changeSequence)].value), values[PROV + "endedAtTime"].value,
                                  values[str(SC.insertedQuads)].value, values[str(SC.deletedQuads)].value))
        except (KeyError, ValueError):
            raise CuratedError(f"the journal entry {iri} lacks its sequence, time or quads") from None
    return sorted(changes, key=lambda c: (c.sequence, c.ended, c.iri))


def replay(graphs: dict, journal_file: Path) -> tuple[list[str], list[str]]:
    """Apply the changes of a curated journal file to the build's graphs (rdflib), in commit order, and
    add the journal itself as its graph. Returns the changes' IRIs and notes for the build's log."""
    from rdflib import Dataset, Graph, URIRef
    from .sources import SourceError, parse_file
    try:
        quads = list(ox.parse(path=str(journal_file), format=ox.RdfFormat.TRIG))
    except SyntaxError as error:
        raise SourceError(f"{journal_file}: {error}") from None
    try:
        changes = _changes(quads)
    except CuratedError as error:
        raise SourceError(f"{journal_file}: {error}") from None
    notes, blank_nodes = [], {}
    for change in changes:
        for kind, text in (("deleted", change.deleted), ("inserted", change.inserted)):
            if not text:
                continue
            parsed = Dataset()
            parsed.parse(data=text, format="nquads", bnode_context=blank_nodes)
            missing = 0
            for s, p, o, context in parsed.quads((None, None, None, None)):
                name = URIRef(str(context.identifier if hasattr(context, "identifier") else context))
                if str(name) == "urn:x-rdflib:default":
                    raise SourceError(f"{journal_file}: change {change.sequence} ({change.iri}) writes to the default "
                                      "graph; the build keeps every statement in a named graph")
                if kind == "deleted":
                    if (s, p, o) not in graphs.get(name, ()):
                        missing += 1
                    elif name in graphs:
                        graphs[name].remove((s, p, o))
                else:
                    graphs.setdefault(name, Graph()).add((s, p, o))
            if missing:
                notes.append(f"change {change.sequence} ({change.iri}): {missing} deleted quad(s) are no longer in "
                             "the sources (changed since?); nothing to delete")
    journal = Graph()
    for s, p, o, _ in parse_file(journal_file).quads((None, None, None, None)):
        journal.add((s, p, o))
    graphs[URIRef(JOURNAL_GRAPH)] = journal
    return [c.iri for c in changes], notes
