"""The reconciliation report: entities with no Wikidata link, for a curator with web access to fill in."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from .namespaces import SC, WD

RECONCILED_KINDS = (SC.State, SC.Person, SC.Organisation, SC.Bloc, SC.Post, SC.Place, SC.ArmedConflict,
                    SC.MilitaryOperation, SC.Event, SC.LegalInstrument, SC.ItemType, SC.Agreement)


@dataclass(frozen=True)
class Unlinked:
    iri: URIRef
    label: str
    kind: str


def _subclasses(ontology: Graph, root: URIRef) -> set[URIRef]:
    found, frontier = {root}, [root]
    while frontier:
        for sub in ontology.subjects(RDFS.subClassOf, frontier.pop()):
            if isinstance(sub, URIRef) and sub not in found:
                found.add(sub)
                frontier.append(sub)
    return found


def unlinked_entities(data: Graph, ontology: Graph) -> list[Unlinked]:
    """Named entities (not fact or statement records, other than agreements) with no owl:sameAs to Wikidata."""
    records = _subclasses(ontology, SC.Record) - _subclasses(ontology, SC.Agreement)
    result = {}
    for kind in RECONCILED_KINDS:
        for cls in _subclasses(ontology, kind) - records:
            for entity in data.subjects(RDF.type, cls):
                if entity in result or not isinstance(entity, URIRef):
                    continue
                if any(str(o).startswith(str(WD)) for o in data.objects(entity, OWL.sameAs)):
                    continue
                if any(t in records for t in data.objects(entity, RDF.type)):
                    continue
                label = data.value(entity, RDFS.label) or entity
                result[entity] = Unlinked(entity, str(label), ontology.value(cls, RDFS.label) or str(cls))
    return sorted(result.values(), key=lambda u: (u.kind, u.label))
