"""A deterministic synthetic corpus in the Statecraft model, for benchmarks from 10k to 10M triples.

``generate(out, articles, seed)`` writes ``out/statecraft.nq`` with the named graphs of a real build
(``dist/``): the real ontology; the reference graph, which is the real reference entities plus
synthetic states, persons in office, posts, government bodies, regions, conflicts and news
agencies; one graph per synthetic article; and the inferred graph. Beside it go
``build-report.json`` (with the ``content_hash`` and ``triples_per_graph`` of a real build),
``void.ttl`` and ``context.jsonld``.

Articles are written from sentence templates. A record's evidence span takes its offsets from the
text as it is written (code points, end exclusive), so the selectors slice the text exactly. The
records follow the patterns of the real article graph: n-ary facts (deployments, transfers,
agreements, sanctions, aid, visits, summits, tenures, relations, developments), statements with
speakers, posts, dates and epistemic status, analytical claims by the article's author, reference
notes (some "Ibid.") citing news reports, and the article node with its text and its digest.

The states are drawn with a Zipf-like skew over a ranking that starts with the real states (in the
order of how often the real articles name them) and continues with the synthetic ones, so a few
states take part in most facts and most states in few. Synthetic entities have IRIs of the usual
``…/id/<kind>/synthetic-…`` form, labels ending in "(synthetic)" and no Wikidata link. The number of
synthetic states grows with the corpus (``synthetic_state_count``), up to a few hundred.

Only the ontology and the reference graph go through rdflib graphs. Each article is built as a
list of triples, closed under inference, written as N-Quads lines and dropped, so memory stays flat
whatever the size. The inferences are those of ``reason.materialise``: its own closure engine runs
on each article (types, super-properties, inverses, symmetry, property chains), and the CONSTRUCT
rules of ``ontology/rules/`` are applied by ``_rule_consequences``, which follows them one by one.
Shortcut triples between entities (``sc:alignedWith``, ``sc:holds`` …) can follow from several
articles; each is written once. tests/test_generate.py checks that the inferred graph equals what
``reason.materialise`` derives from the same data.

Output is a function of (articles, seed) alone: every random choice comes from a ``random.Random``
seeded with a string, nothing depends on set or hash order, and each chunk of lines is sorted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
from bisect import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterable

from rdflib import Graph, Literal, URIRef
from rdflib import namespace as rdflib_namespace
from rdflib.term import Node

from . import namespaces, reason
from .evidence import Span, add_span
from .namespaces import (BASE, ID, INFERRED_GRAPH, ONTOLOGY_GRAPH, REFERENCE_GRAPH, article_graph, article_iri,
                         evidence_iri)
from .publish import DATASET_IRI, canonical, jsonld_context, nquads_lines
from .sources import discover, parse_file, parse_files


class _CachedNamespace:
    """A namespace whose terms are made once: rdflib's namespaces make a new URIRef on every access."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        term = getattr(self._namespace, name)
        setattr(self, name, term)
        return term


SC, SCHEMA = _CachedNamespace(namespaces.SC), _CachedNamespace(namespaces.SCHEMA)
DCTERMS, RDF, RDFS, SKOS, XSD = (_CachedNamespace(getattr(rdflib_namespace, name))
                                 for name in ("DCTERMS", "RDF", "RDFS", "SKOS", "XSD"))


GENERATOR = "statecraft generate"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

MAX_SYNTHETIC_STATES = 300
STATE_SKEW = 1.2        # Zipf exponent over the ranked states
OFFICIAL_SKEW = 1.1     # and over the ranked persons in office
PARAGRAPHS = (5, 9)     # paragraphs per article, inclusive
STORIES_PER_PARAGRAPH = (1, 1, 2)
IBID_SHARE = 0.3        # share of notes that repeat the previous note's source
SIZE_SAMPLE = 200       # articles generated to estimate the mean article size
TYPICAL_ARTICLE_TRIPLES = 950   # with its inferences: the first guess of triples_for_size

FIRST_DAY = dt.date(2019, 1, 1)
DAYS = (dt.date(2025, 12, 31) - FIRST_DAY).days

# The CONSTRUCT rules of ontology/rules/, as _rule_consequences applies them.
RULE_FILES = ("aligned-and-opposed.rq", "alliance-aligned.rq", "deployed-troops-to.rq", "holds.rq",
              "mentions-indirect.rq", "mentions.rq", "supplied.rq")
HAPPENED = frozenset({SC.ReportedBySource, SC.AssertedByAuthor})
RELATION_STATUSES = HAPPENED | {SC.HedgedAnalysis}
STANCE_SHORTCUTS = {SC.Aligned: SC.alignedWith, SC.Opposed: SC.opposes}
ALIGNING_AGREEMENTS = frozenset({SC.AllianceAgreement, SC.StrategicPartnershipTreaty})
ALIGNING_AGREEMENT_STATUSES = frozenset({SC.Signed, SC.InForce})
MENTIONABLE = frozenset({SC.Actor, SC.Place, SC.Post, SC.ArmedConflict, SC.MilitaryOperation, SC.Election,
                         SC.LegalInstrument, SC.ItemType})

_STATE_STARTS = ("Var", "Os", "Bel", "Kor", "Tam", "Zel", "Ard", "Mir", "Sol", "Ves",
                 "Lun", "Dra", "Cal", "Nor", "Ist", "Ral", "Pel", "Gor", "Ulm", "Fen")
_STATE_ENDS = ("nia", "land", "stan", "ria", "via", "mark", "tia", "dor", "ssa", "nes")
_STATE_MIDDLES = ("a", "e", "i", "o", "u", "ar", "en", "is", "or", "an")
_FIRST_NAMES = ("Ilo", "Mara", "Teodor", "Anka", "Veli", "Soren", "Ines", "Radu", "Liesel", "Oren",
                "Katya", "Bram", "Nadia", "Emil", "Zora", "Pavo", "Ilse", "Dario", "Mina", "Tomas",
                "Yara", "Konstantin", "Edda", "Luka", "Sanne")
_LAST_NAMES = ("Marek", "Vosk", "Delan", "Korvin", "Tass", "Halloran", "Bexley", "Orsini", "Quill", "Draven",
               "Lindqvist", "Moravec", "Sarkis", "Ebner", "Voight", "Castell", "Rinaldi", "Okonkwo", "Varga", "Holm",
               "Petrak", "Aalto", "Benes", "Cerny", "Dumitru", "Falk", "Gressel", "Hartig", "Ivanic", "Jansa",
               "Kohout", "Lazar", "Mraz", "Novak", "Ondra", "Pohl", "Rusnak", "Sedlak", "Tuma", "Zeman")


class GenerateError(Exception):
    """The sources are not what the generator was written for."""


def _check_rules(rules_dir: Path) -> None:
    found = tuple(sorted(path.name for path in rules_dir.glob("*.rq")))
    if found != RULE_FILES:
        raise GenerateError(f"{rules_dir} holds the rules {', '.join(found)}, but the generator applies "
                            f"{', '.join(RULE_FILES)} (statecraft/generate.py, _rule_consequences): "
                            "its inferred graph would not be the build's")


def synthetic_state_count(articles: int) -> int:
    """How many synthetic states a corpus of this many articles has: a few per article, at most a few hundred."""
    return min(MAX_SYNTHETIC_STATES, 6 + 3 * articles)


def article_slug(index: int) -> str:
    return f"synthetic-{index:06d}"


# ---------------------------------------------------------------------------------------------
# The population: real reference entities first, then synthetic ones
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entity:
    iri: URIRef
    name: str            # as the article text writes it


@dataclass(frozen=True)
class Official:
    person: Entity
    post: Entity
    home: URIRef | None  # the state of the post, if it has one

    @property
    def title(self) -> str:
        return f"{self.post.name} {self.person.name}"


@dataclass
class Population:
    states: list[Entity]                 # ranked: the most often named first
    officials: list[Official]            # ranked likewise
    bodies: list[Entity]                 # government bodies, which speak without a post
    publishers: list[Entity]             # news organisations
    organisations: list[Entity]          # intergovernmental organisations and alliances
    blocs: list[Entity]
    conflicts: list[Entity]
    items: list[Entity]
    regions: list[Entity]
    regions_in: dict[URIRef, list[Entity]]
    sites_in: dict[URIRef, list[Entity]]


class _Zipf:
    """Draws from a ranked list with probability proportional to 1 / rank ** exponent."""

    def __init__(self, items: list, exponent: float):
        self.items = items
        self.cumulative = list(accumulate(1 / rank ** exponent for rank in range(1, len(items) + 1)))

    def draw(self, rng: random.Random):
        return self.items[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


def _label(graph: Graph, node: URIRef) -> str:
    """The entity's English label (the shapes require one)."""
    return min(str(label) for label in graph.objects(node, RDFS.label) if getattr(label, "language", None) == "en")


def _real_population(reference: Graph, real_articles: list[Graph]) -> Population:
    """The real reference entities, ranked by how often the real articles name them."""
    named = Counter(o for graph in real_articles for o in graph.objects() if isinstance(o, URIRef))

    def ranked(cls) -> list[Entity]:
        nodes = sorted(set(reference.subjects(RDF.type, cls)), key=lambda n: (-named[n], str(n)))
        return [Entity(node, _label(reference, node)) for node in nodes]

    def home(post: URIRef) -> URIRef | None:
        holder = reference.value(post, SC.postIn)
        if holder is not None and (holder, RDF.type, SC.State) not in reference:
            holder = reference.value(holder, SC.subOrganisationOf)
        return holder if holder is not None and (holder, RDF.type, SC.State) in reference else None

    offices = {(graph.value(tenure, SC.tenureHolder), graph.value(tenure, SC.tenurePost))
               for graph in real_articles for tenure in graph.subjects(RDF.type, SC.Tenure)}
    officials = [Official(Entity(person, _label(reference, person)), Entity(post, _label(reference, post)), home(post))
                 for person, post in sorted(offices, key=lambda pair: (-named[pair[0]], str(pair[0]), str(pair[1])))
                 if (person, RDF.type, SC.Person) in reference and (post, RDF.type, SC.Post) in reference]

    def located(cls) -> dict[URIRef, list[Entity]]:
        by_state = defaultdict(list)
        for place in ranked(cls):
            state = reference.value(place.iri, SC.locatedIn)
            if state is not None:
                by_state[state].append(place)
        return by_state

    return Population(
        states=ranked(SC.State), officials=officials,
        bodies=[Entity(body.iri, "the " + body.name) for body in ranked(SC.GovernmentBody)],
        publishers=ranked(SC.NewsOrganisation),
        organisations=ranked(SC.IntergovernmentalOrganisation) + ranked(SC.MilitaryAlliance),
        blocs=ranked(SC.Bloc), conflicts=[Entity(c.iri, "the " + c.name) for c in ranked(SC.ArmedConflict)],
        items=ranked(SC.ItemType), regions=ranked(SC.Region), regions_in=located(SC.Region), sites_in=located(SC.Site),
    )


def _synthetic_state_name(number: int) -> str:
    return _STATE_STARTS[number % 20] + _STATE_MIDDLES[(number // 200) % 10] + _STATE_ENDS[(number // 20) % 10]


def _synthetic_person_name(number: int) -> str:
    return f"{_FIRST_NAMES[number % 25]} {_LAST_NAMES[(number // 25) % 40]}"


def _add_synthetic_entities(population: Population, count: int) -> list[tuple]:
    """Extend the population with ``count`` synthetic states and their offices; return their triples."""
    triples = []

    def entity(kind: str, slug: str, cls: URIRef, label: str, name: str, *properties) -> Entity:
        iri = ID[f"{kind}/{slug}"]
        triples.append((iri, RDF.type, cls))
        triples.append((iri, RDFS.label, Literal(f"{label} (synthetic)", lang="en")))
        triples.extend((iri, p, o) for p, o in properties)
        return Entity(iri, name)

    for number in range(1, count + 1):
        code = f"synthetic-{number:04d}"
        name = _synthetic_state_name(number)
        state = entity("state", code, SC.State, name, name)
        population.states.append(state)
        for seat, (post_slug, post_title) in enumerate((("president", "President"),
                                                        ("foreign-minister", "Foreign Minister"))):
            person_number = 2 * number - 1 + seat
            person_name = _synthetic_person_name(person_number)
            person = entity("person", f"synthetic-{person_number:04d}", SC.Person, person_name, person_name)
            title = f"{post_title} of {name}"
            post = entity("post", f"{code}-{post_slug}", SC.Post, title, title, (SC.postIn, state.iri))
            population.officials.append(Official(person, post, state.iri))
        population.bodies.append(entity("organisation", f"{code}-defence-ministry", SC.GovernmentBody,
                                        f"Ministry of Defence of {name}", f"the Ministry of Defence of {name}",
                                        (SC.subOrganisationOf, state.iri)))
        region = entity("place", f"{code}-border-region", SC.Region, f"{name} border region",
                        f"the {name} border region", (SC.locatedIn, state.iri))
        population.regions.append(region)
        population.regions_in.setdefault(state.iri, []).append(region)
        if number % 10 == 1:
            population.publishers.append(entity("organisation", f"{code}-news-agency", SC.NewsOrganisation,
                                                f"{name} News Agency", f"{name} News Agency"))
        if number % 8 == 1 and number < count:
            war = f"{name}–{_synthetic_state_name(number + 1)} war"
            population.conflicts.append(entity("conflict", code, SC.ArmedConflict, war, f"the {war}"))
    return triples


# ---------------------------------------------------------------------------------------------
# The corpus: its fixed part, its articles and their inferences
# ---------------------------------------------------------------------------------------------

class _Index:
    """Objects by subject and predicate, for the rules."""

    def __init__(self, triples: Iterable[tuple] = ()):
        self._by_subject: dict = {}
        self.add(triples)

    def add(self, triples: Iterable[tuple]) -> None:
        for s, p, o in triples:
            self._by_subject.setdefault(s, {}).setdefault(p, []).append(o)

    def values(self, subject, predicate) -> list:
        return self._by_subject.get(subject, {}).get(predicate, [])

    def objects(self, subject) -> list:
        return [o for objects in self._by_subject.get(subject, {}).values() for o in objects]


@dataclass
class Chunk:
    """A set of triples and the triples inferred from it that no earlier chunk gave."""
    asserted: list[tuple]
    inferred: list[tuple]


class SyntheticCorpus:
    """A corpus of ``articles`` synthetic articles for ``seed``: its population, its reference graph, its articles.

    ``article(index)`` works for any index, also beyond ``articles``: such an article draws on the
    same population, so it can be validated as a newly added article against the corpus.
    """

    def __init__(self, articles: int, seed: int = 0, root: Path | None = None):
        sources = discover(Path(root) if root is not None else PROJECT_ROOT)
        self.seed = seed
        _check_rules(sources.rules_dir)
        self.ontology = parse_file(sources.ontology_file)
        self.reference = parse_files(sources.reference_files)
        self.population = _real_population(self.reference, [parse_files(a.rdf_files) for a in sources.articles])
        self.real_state_count = len(self.population.states)
        for triple in _add_synthetic_entities(self.population, synthetic_state_count(articles)):
            self.reference.add(triple)
        self._states = _Zipf(self.population.states, STATE_SKEW)
        self._officials = _Zipf(self.population.officials, OFFICIAL_SKEW)
        self._bodies = _Zipf(self.population.bodies, STATE_SKEW)
        self._publishers = _Zipf(self.population.publishers, STATE_SKEW)

        fixed = Graph()
        fixed += self.ontology
        fixed += self.reference
        self._vocabulary = reason.Vocabulary(fixed)
        self._fixed_values = _Index()
        self._seen_between_entities: set = set()
        base = list(fixed)
        self.base_inferred = self._infer(base)
        self._fixed_values = _Index(base + self.base_inferred)
        self._seen_between_entities.update(base)
        self._seen_between_entities.update(self.base_inferred)

    # --- articles -----------------------------------------------------------------------------

    def article_triples(self, index: int) -> list[tuple]:
        """The asserted triples of article ``index`` (its graph is ``article_graph(article_slug(index))``)."""
        return _ArticleWriter(self, index).write()

    def article(self, index: int) -> Chunk:
        """Article ``index`` and what it adds to the inferred graph, given the articles before it.

        Call it for the indices in order: a shortcut between entities that an earlier article gave
        is not repeated.
        """
        asserted = self.article_triples(index)
        local = {s for s, _, _ in asserted}
        inferred = []
        for triple in self._infer(asserted):
            if triple[0] in local or triple[2] in local:
                inferred.append(triple)
            elif triple not in self._seen_between_entities:
                self._seen_between_entities.add(triple)
                inferred.append(triple)
        return Chunk(asserted, inferred)

    # --- inference ------------------------------------------------------------------------------

    def _infer(self, asserted: list[tuple]) -> list[tuple]:
        """What reason.materialise adds to the fixed part when ``asserted`` joins it.

        The rules can only match subjects of ``asserted``: an article's records, or for the fixed
        part itself, anything in it.
        """
        known = set(asserted)
        engine = reason.Closure(self._vocabulary, known)
        inferred = engine.run(asserted)
        values = _Index(asserted + inferred)
        subjects = list(dict.fromkeys(s for s, _, _ in asserted))
        while True:
            fresh = [t for t in dict.fromkeys(self._rule_consequences(values, subjects))
                     if t not in known and t not in self._seen_between_entities and engine.acceptable(*t)]
            if not fresh:
                return inferred
            known.update(fresh)
            closed = engine.run(fresh)
            values.add(fresh + closed)
            inferred += fresh + closed

    def _rule_consequences(self, local: _Index, subjects: list) -> Iterable[tuple]:
        """The CONSTRUCT rules of ontology/rules/ on the fixed part plus ``local``, rule by rule."""
        fixed = self._fixed_values

        def values(node, predicate) -> list:
            return local.values(node, predicate) + fixed.values(node, predicate)

        def types(node) -> set:
            return set(values(node, RDF.type))

        for node in subjects:
            kinds = types(node)
            statuses = set(values(node, SC.epistemicStatus))
            happened = bool(statuses & HAPPENED)
            if SC.MilitaryDeployment in kinds and happened:                       # deployed-troops-to.rq
                for sender in values(node, SC.sendingState):
                    for receiver in values(node, SC.receivingState):
                        yield sender, SC.deployedTroopsTo, receiver
            if SC.Transfer in kinds and happened:                                 # supplied.rq
                for supplier in values(node, SC.supplier):
                    for recipient in values(node, SC.recipient):
                        yield supplier, SC.supplied, recipient
            if SC.Tenure in kinds and happened:                                   # holds.rq
                for person in values(node, SC.tenureHolder):
                    for post in values(node, SC.tenurePost):
                        yield person, SC.holds, post
            if SC.Relation in kinds and statuses & RELATION_STATUSES:             # aligned-and-opposed.rq
                for stance in values(node, SC.stance):
                    if stance in STANCE_SHORTCUTS:
                        for first in values(node, SC.firstActor):
                            for second in values(node, SC.secondActor):
                                yield first, STANCE_SHORTCUTS[stance], second
            if (SC.Agreement in kinds                                             # alliance-aligned.rq
                    and set(values(node, SC.agreementKind)) & ALIGNING_AGREEMENTS
                    and set(values(node, SC.agreementStatus)) & ALIGNING_AGREEMENT_STATUSES):
                parties = values(node, SC.party)
                for a in parties:
                    for b in parties:
                        if a != b:
                            yield a, SC.alignedWith, b
            for article in values(node, SC.extractedFrom):
                authors = set(values(article, DCTERMS.creator))
                for entity in local.objects(node):                               # mentions.rq
                    if entity not in authors and types(entity) & MENTIONABLE:
                        yield article, SC.mentions, entity
                for ground in values(node, SC.ground):                            # mentions-indirect.rq
                    for instrument in values(ground, SC.refersToInstrument):
                        yield article, SC.mentions, instrument
                        for issuer in values(instrument, SC.issuedBy):
                            yield article, SC.mentions, issuer
                for post in values(node, SC.tenurePost):
                    for holder in values(post, SC.postIn):
                        yield article, SC.mentions, holder

    # --- drawing entities -----------------------------------------------------------------------

    def state(self, rng: random.Random, *excluded: URIRef) -> Entity:
        while True:
            state = self._states.draw(rng)
            if state.iri not in excluded:
                return state

    def official(self, rng: random.Random, *excluded: URIRef) -> Official:
        while True:
            official = self._officials.draw(rng)
            if official.person.iri not in excluded:
                return official

    def body(self, rng: random.Random) -> Entity:
        return self._bodies.draw(rng)

    def publisher(self, rng: random.Random) -> Entity:
        return self._publishers.draw(rng)


# ---------------------------------------------------------------------------------------------
# One article: text from templates, records with evidence spans taken from the text
# ---------------------------------------------------------------------------------------------

def _plain(text: str) -> Literal:
    return Literal(text)


def _english(text: str) -> Literal:
    return Literal(text, lang="en")


def _day(date: dt.date) -> Literal:
    return Literal(date.isoformat(), datatype=XSD.date)


def _month(date: dt.date) -> Literal:
    return Literal(f"{date:%Y-%m}", datatype=XSD.gYearMonth)


def _year(year: int) -> Literal:
    return Literal(str(year), datatype=XSD.gYear)


def _long_date(date: dt.date) -> str:
    return f"{date:%B} {date.day}, {date.year}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _ArticleWriter:
    """Writes one article: its text sentence by sentence, and the records each sentence supports."""

    def __init__(self, corpus: SyntheticCorpus, index: int):
        self.corpus, self.index = corpus, index
        self.population = corpus.population
        self.rng = random.Random(f"statecraft-generate/{corpus.seed}/{index}")
        self.slug = article_slug(index)
        self.article = article_iri(self.slug)
        self.author = ID[f"agent/author-of-{self.slug}"]
        self.date = FIRST_DAY + dt.timedelta(days=self.rng.randrange(DAYS))
        self.triples: list[tuple] = []
        self._pieces: list[str] = []
        self._length = 0
        self._evidence: list[tuple[URIRef, int, int]] = []
        self._records = 0
        self._tenures: dict[URIRef, URIRef] = {}
        self._notes: list[URIRef] = []
        self._paragraph_note: URIRef | None = None
        self._paragraph_open = False
        self._headline_states: list[str] = []

    def write(self) -> list[tuple]:
        stories = [self._deployment, self._transfer, self._agreement, self._sanction, self._aid, self._visit,
                   self._summit, self._relation, self._outlook]
        weights = [3, 3, 2, 1.5, 1.5, 1.5, 1, 2, 1.5]
        for paragraph in range(self.rng.randint(*PARAGRAPHS)):
            if paragraph:
                self._write("\n")
            self._paragraph_open = False
            for _ in range(self.rng.choice(STORIES_PER_PARAGRAPH)):
                self.rng.choices(stories, weights)[0]()
            if self._paragraph_note is not None:
                self._write(f"[{len(self._notes)}]")
                self._paragraph_note = None
        self._finish("".join(self._pieces))
        return self.triples

    # --- text -----------------------------------------------------------------------------------

    def _write(self, words: str) -> None:
        self._pieces.append(words)
        self._length += len(words)

    def _say(self, *pieces) -> dict[str, tuple[int, int]]:
        """Write a sentence of pieces, plain or (name, words); return the spans of the named ones and "sentence"."""
        if self._paragraph_open:
            self._write(" ")
        self._paragraph_open = True
        spans, start = {}, self._length
        for number, piece in enumerate(pieces):
            name, words = piece if isinstance(piece, tuple) else (None, piece)
            if number == 0:
                words = _capitalised(words)
            begin = self._length
            self._write(words)
            if name is not None:
                spans[name] = (begin, self._length)
        spans["sentence"] = (start, self._length)
        return spans

    # --- records --------------------------------------------------------------------------------

    def _record(self, kind: str, cls: URIRef, label: str, status: URIRef, evidence: Iterable[tuple[int, int]],
                *properties: tuple[URIRef, Node]) -> URIRef:
        self._records += 1
        record = ID[f"{kind}/{self.slug}-{self._records:02d}"]
        add = self.triples.append
        add((record, RDF.type, cls))
        add((record, RDFS.label, _english(label)))
        add((record, SC.epistemicStatus, status))
        for predicate, value in properties:
            add((record, predicate, value))
        if status == SC.ReportedBySource:
            add((record, SC.citedNote, self._note()))
        for start, end in evidence:
            self._evidence.append((record, start, end))
        return record

    def _tenure(self, official: Official, span: tuple[int, int]) -> None:
        """The office a speaker or visitor holds, attested by the article, with the words that name it."""
        if official.person.iri in self._tenures:
            self._evidence.append((self._tenures[official.person.iri], *span))
            return
        self._tenures[official.person.iri] = self._record(
            "tenure", SC.Tenure, f"{official.person.name} as {official.post.name}", SC.AssertedByAuthor, [span],
            (SC.tenureHolder, official.person.iri), (SC.tenurePost, official.post.iri),
            (SC.attestedOn, _day(self.date)),
            (SKOS.editorialNote, _english("Attested on the article's date.")))

    def _statement(self, label: str, speakers: dict[str, Official | Entity], acts: list[URIRef], spans: dict,
                   about: list[URIRef], *properties: tuple[URIRef, Node], dated_in_text: bool = False) -> URIRef:
        """A reported statement, its evidence the whole sentence; ``speakers`` maps the sentence's
        pieces that name them to officials (who speak in their post, and get a tenure) or bodies."""
        details = [(SC.actType, act) for act in acts] + [(SC.about, node) for node in about]
        for speaker in speakers.values():
            if isinstance(speaker, Official):
                details += [(SC.speaker, speaker.person.iri), (SC.speakerPost, speaker.post.iri)]
            else:
                details.append((SC.speaker, speaker.iri))
        if dated_in_text or self.rng.random() < 0.85:
            details.append((SC.date, _day(self.date)))
            if not dated_in_text:
                details.append((SKOS.editorialNote, _english("Undated in its sentence; dated by the article's date.")))
        statement = self._record("statement", SC.Statement, label, SC.ReportedBySource, [spans["sentence"]],
                                 *details, *properties)
        for piece, speaker in speakers.items():
            if isinstance(speaker, Official):
                self._tenure(speaker, spans[piece])
        return statement

    def _claim(self, label: str, paraphrase: str, acts: list[URIRef], certainty: URIRef, status: URIRef,
               span: tuple[int, int], about: list[URIRef], hedges: list[str]) -> URIRef:
        """An analytical claim: the author's own reading, with its certainty and its hedging words."""
        return self._record("claim", SC.AnalyticalClaim, label, status, [span],
                            (SC.speaker, self.author), (SC.paraphrase, _plain(paraphrase)), (SC.certainty, certainty),
                            *[(SC.actType, act) for act in acts], *[(SC.about, node) for node in about],
                            *[(SC.hedgeCue, _plain(hedge)) for hedge in hedges])

    def _note(self) -> URIRef:
        """The note whose marker closes the current paragraph, citing a news report (or "Ibid.")."""
        if self._paragraph_note is not None:
            return self._paragraph_note
        number = len(self._notes) + 1
        note = ID[f"note/{self.slug}/{number}"]
        add = self.triples.append
        add((note, RDF.type, SC.Note))
        add((note, RDFS.label, _english(f"Note [{number}]")))
        add((note, SC.noteLabel, _plain(str(number))))
        add((note, SC.noteOf, self.article))
        add((self.article, SC.hasNote, note))
        if self._notes and self.rng.random() < IBID_SHARE:
            add((note, SC.noteText, _plain("Ibid.")))
            add((note, SC.ibidOf, self._notes[-1]))
        else:
            publisher = self.corpus.publisher(self.rng)
            issued = self.date - dt.timedelta(days=self.rng.randrange(10))
            headline = f"{_and(self._headline_states[-2:] or ['Officials'])}: security developments, report {number}"
            url = f"https://news.example/{self.slug}/{issued:%Y/%m/%d}/report-{number}"
            source = ID[f"source/{self.slug}-{number}"]
            accessed = f"{self.date:%d.%m.%Y}"
            add((note, SC.noteText,
                 _plain(f"“{headline}”, {publisher.name}, {url}, (Date of Access: {accessed}).")))
            add((note, SC.citesSource, source))
            add((source, RDF.type, SC.NewsReport))
            add((source, DCTERMS.title, _english(headline)))
            add((source, RDFS.label, _english(f"{publisher.name}, {issued.day} {issued:%B %Y}: {headline}")))
            add((source, SC.publisher, publisher.iri))
            add((source, SCHEMA.url, Literal(url, datatype=XSD.anyURI)))
            add((source, SC.accessDate, _day(self.date)))
            add((source, DCTERMS.issued, _day(issued)))
        self._notes.append(note)
        self._paragraph_note = note
        return note

    def _finish(self, text: str) -> None:
        add = self.triples.append
        first = self._headline_states[:2] or ["Security"]
        add((self.article, RDF.type, SC.Article))
        add((self.article, DCTERMS.title,
             _english(f"{_and(first)}: security relations (synthetic article {self.index})")))
        add((self.article, RDFS.label, _english(f"Synthetic analysis article {self.index} (seed {self.corpus.seed})")))
        add((self.article, DCTERMS.language, _plain("en")))
        add((self.article, SC.earliestPublicationDate, _day(self.date)))
        add((self.article, DCTERMS.creator, self.author))
        add((self.article, SKOS.editorialNote, _english(f"Synthetic: written by {GENERATOR} for benchmarks; "
                                                          "it reports nothing that happened.")))
        add((self.article, SCHEMA.text, _plain(text)))
        add((self.article, SC.textSha256, _plain(hashlib.sha256(text.encode("utf-8")).hexdigest())))
        add((self.author, RDF.type, SC.Actor))
        add((self.author, RDFS.label, _english(f"Author of synthetic article {self.index} (synthetic)")))
        collector = SimpleNamespace(add=add)   # evidence.add_span writes into anything with an add method
        anchored = set()
        for record, start, end in self._evidence:
            span = Span(record, start, end, evidence_iri(self.slug, start, end))
            if (start, end) in anchored:
                add((record, SC.hasEvidence, span.iri))
            else:
                anchored.add((start, end))
                add_span(collector, span, self.article, self.slug, text)
        for record in dict.fromkeys(record for record, _, _ in self._evidence):
            add((record, SC.extractedFrom, self.article))
        self.triples = list(dict.fromkeys(self.triples))

    # --- drawing --------------------------------------------------------------------------------

    def _state(self, *excluded: URIRef) -> Entity:
        state = self.corpus.state(self.rng, *excluded)
        if state.name not in self._headline_states:
            self._headline_states.append(state.name)
        return state

    def _actor(self, *excluded: URIRef) -> Entity:
        """Mostly a state; sometimes an organisation or a bloc."""
        others = self.population.organisations + self.population.blocs
        if others and self.rng.random() < 0.2:
            return self.rng.choice(others)
        return self._state(*excluded)

    def _speaker(self) -> Official | Entity:
        """Mostly a person in office; sometimes a government body."""
        if self.rng.random() < 0.75:
            return self.corpus.official(self.rng)
        return self.corpus.body(self.rng)

    @staticmethod
    def _speaker_piece(speaker: Official | Entity, piece: str) -> tuple[str, str]:
        """The piece of a sentence that names the speaker: an official with the post, or a body."""
        return piece, speaker.title if isinstance(speaker, Official) else speaker.name

    @staticmethod
    def _speaker_name(speaker: Official | Entity) -> str:
        return _capitalised(speaker.person.name if isinstance(speaker, Official) else speaker.name)

    def _items(self) -> list[Entity]:
        return self.rng.sample(self.population.items, self.rng.choice((1, 1, 2)))

    def _month_in(self) -> dt.date:
        """A day some weeks or months before the article."""
        return self.date - dt.timedelta(days=self.rng.randrange(30, 400))

    # --- stories: one paragraph each ------------------------------------------------------------

    def _deployment(self) -> None:
        sender = self._state()
        receiver = self._state(sender.iri)
        figure = self.rng.choice((500, 1000, 1500, 2000, 3000, 5000, 8000, 10000, 12000))
        qualifier, words = self.rng.choice(((SC.Nearly, f"nearly {figure:,}"), (SC.Approximately, f"about {figure:,}"),
                                            (SC.Approximately, f"around {figure:,}"), (SC.Exactly, f"{figure:,}"),
                                            (SC.Some, "some")))
        count = [] if qualifier == SC.Some else [(SC.personnelCount, Literal(figure))]
        count += [(SC.countQualifier, qualifier), (SC.countAsWritten, _plain(words))]
        conflict = self.rng.choice(self.population.conflicts) if self.rng.random() < 0.5 else None
        purpose = f"to train and fight in {conflict.name}" if conflict else self.rng.choice(
            ("to guard the border", "to take part in joint exercises", "to protect military installations"))
        details = [(SC.sendingState, sender.iri), (SC.receivingState, receiver.iri), (SC.purpose, _plain(purpose))]
        details += [(SC.inConflict, conflict.iri)] if conflict else []
        label = f"{sender.name}'s deployment of {words} troops to {receiver.name}"
        mode = self.rng.choices(("reported", "asserted", "alleged"), (5, 3, 2))[0]
        first_statement = None
        if mode == "reported":
            speaker = self._speaker()
            timeframe = self.rng.random() < 0.3
            clause = (f"{sender.name} has sent {words} troops to {receiver.name}"
                      + (" “over the next few weeks”" if timeframe else "") + f" {purpose}")
            spans = self._say(self._speaker_piece(speaker, "speaker"), " reported that ", ("fact", clause), ".")
            extra = [(SC.timeframeAsWritten, _plain("over the next few weeks"))] if timeframe else []
            deployment = self._record("deployment", SC.MilitaryDeployment, label, SC.ReportedBySource,
                                      [spans["fact"]], *count, *details, *extra)
            quoted = [(SC.quotation, _plain("over the next few weeks"))] if timeframe else []
            first_statement = self._statement(f"{self._speaker_name(speaker)}: {label}", {"speaker": speaker},
                                              [SC.Reports], spans, [deployment], (SC.paraphrase, _plain(clause)),
                                              *quoted)
        elif mode == "asserted":
            month = self._month_in()
            when = f"in {month:%B %Y}"
            spans = self._say(f"{sender.name} deployed {words} troops to {receiver.name} {purpose} {when}.")
            deployment = self._record("deployment", SC.MilitaryDeployment, label, SC.AssertedByAuthor,
                                      [spans["sentence"]], *count, *details,
                                      (SC.date, _month(month)), (SC.dateAsWritten, _plain(when)))
        else:
            spans = self._say(("fact", f"{sender.name} is alleged to have sent troops to {receiver.name}"),
                              f" {purpose}.")
            deployment = self._record("deployment", SC.MilitaryDeployment,
                                      f"{sender.name}'s alleged deployment of troops to {receiver.name}", SC.Alleged,
                                      [spans["fact"]], *details, (SC.hedgeCue, _plain("is alleged to have")))
        status = {"reported": SC.ReportedBySource, "asserted": SC.AssertedByAuthor, "alleged": SC.Alleged}[mode]
        regions = self.population.regions_in.get(receiver.iri)
        if regions and self.rng.random() < 0.4:
            region = self.rng.choice(regions)
            spans = self._say(("fact", f"some of the troops are believed to be heading to {region.name}"), ".")
            self._record("deployment", SC.MilitaryDeployment, f"{sender.name}'s troops heading to {region.name}",
                         status, [spans["fact"]], (SC.sendingState, sender.iri), (SC.receivingState, receiver.iri),
                         (SC.countQualifier, SC.Some), (SC.countAsWritten, _plain("Some")),
                         (SC.destinationRegion, region.iri), (SC.partOf, deployment),
                         (SC.hedgeCue, _plain("are believed to be")))
        if self.rng.random() < 0.5:
            speaker = self.corpus.official(self.rng)
            violation = self.rng.random() < 0.3
            charge = ("a direct violation of UN Security Council resolutions" if violation
                      else "a threat to regional security")
            quote = f"{sender.name}’s troops in {receiver.name} are {charge}"
            spans = self._say(self._speaker_piece(speaker, "speaker"), " condemned the deployment, saying, “",
                              ("quote", quote), "”.")
            grounds = [SC.ViolationOfSecurityCouncilResolutions] if violation else [SC.ThreatToGlobalSecurity]
            self._statement(f"{speaker.person.name} condemns {sender.name}'s deployment", {"speaker": speaker},
                            [SC.Condemns, SC.Warns], spans, [deployment], (SC.quotation, _plain(quote)),
                            *[(SC.ground, g) for g in grounds])
        if first_statement is not None and self.rng.random() < 0.3:
            speaker = self._speaker()
            spans = self._say(self._speaker_piece(speaker, "speaker"), " confirmed these reports.")
            self._statement(f"{self._speaker_name(speaker)} confirms the reports", {"speaker": speaker},
                            [SC.Confirms], spans, [deployment],
                            (SC.paraphrase, _plain(f"{sender.name} has sent troops to {receiver.name}")),
                            (SC.confirms, first_statement))
        if self.rng.random() < 0.3:
            basis = f"the deployment deepens the alignment between {sender.name} and {receiver.name}"
            spans = self._say("It can be said that ", ("basis", basis), ".")
            relation = self._record("relation", SC.Relation, f"{sender.name} aligned with {receiver.name}",
                                    SC.HedgedAnalysis, [spans["basis"]], (SC.firstActor, sender.iri),
                                    (SC.secondActor, receiver.iri), (SC.stance, SC.Aligned), (SC.basis, _plain(basis)),
                                    (SC.certainty, SC.Arguable), (SC.hedgeCue, _plain("It can be said")))
            self._claim(f"Author: the deployment aligns {sender.name} with {receiver.name}", _capitalised(basis) + ".",
                        [SC.Argues], SC.Arguable, SC.HedgedAnalysis, spans["sentence"], [relation, deployment],
                        ["It can be said"])

    def _transfer(self) -> None:
        supplier = self._state()
        recipient = self._state(supplier.iri)
        items = self._items()
        goods = _and([item.name for item in items])
        details = [(SC.supplier, supplier.iri), (SC.recipient, recipient.iri)] + [(SC.item, i.iri) for i in items]
        label = f"{supplier.name} supplies {recipient.name} with {goods}"
        mode = self.rng.choices(("asserted", "reported", "conditional", "alleged"), (4, 2.5, 2, 1.5))[0]
        if mode == "asserted":
            conflict = self.rng.choice(self.population.conflicts) if self.rng.random() < 0.4 else None
            spans = self._say(f"{supplier.name} provided {recipient.name} with {goods}"
                              + (f" for {conflict.name}" if conflict else "") + ".")
            self._record("transfer", SC.Transfer, label, SC.AssertedByAuthor, [spans["sentence"]], *details,
                         *([(SC.inConflict, conflict.iri)] if conflict else []))
        elif mode == "reported":
            speaker = self._speaker()
            clause = f"{supplier.name} has supplied {recipient.name} with {goods}"
            spans = self._say(self._speaker_piece(speaker, "speaker"), " stated that ", ("fact", clause), ".")
            transfer = self._record("transfer", SC.Transfer, label, SC.ReportedBySource, [spans["fact"]], *details)
            self._statement(f"{self._speaker_name(speaker)}: {label}", {"speaker": speaker}, [SC.States], spans,
                            [transfer], (SC.paraphrase, _plain(clause)))
        elif mode == "conditional":
            speaker = self._speaker()
            threatened = self._state(supplier.iri, recipient.iri)
            condition = f"if {supplier.name} transfers {goods} to {recipient.name}"
            threat = f"this could pose a serious threat to the security of {threatened.name}"
            spans = self._say(self._speaker_piece(speaker, "speaker"), " claimed that ", ("condition", condition), ", ",
                              ("threat", threat), ".")
            transfer = self._record("transfer", SC.Transfer, f"Possible transfer of {goods} from {supplier.name} to "
                                    f"{recipient.name}", SC.Conditional, [spans["condition"]], *details,
                                    (SC.condition, _plain(condition)))
            development = self._record(
                "development", SC.Development, f"A threat to {threatened.name} (conditional)", SC.Conditional,
                [spans["threat"]], (SC.description, _plain(f"A serious threat to the security of {threatened.name}, "
                                                           f"{condition}.")),
                (SC.affectedActor, threatened.iri), (SC.conditionalOn, transfer), (SC.condition, _plain(condition)),
                (SC.certainty, SC.Possible), (SC.hedgeCue, _plain("could")))
            self._statement(f"{self._speaker_name(speaker)} warns of a threat to {threatened.name}",
                            {"speaker": speaker}, [SC.Claims, SC.Warns], spans, [transfer, development],
                            (SC.paraphrase, _plain(f"{condition}, {threat}")), (SC.condition, _plain(condition)),
                            (SC.certainty, SC.Possible), (SC.hedgeCue, _plain("could")))
        else:
            spans = self._say(("fact", f"{supplier.name} is alleged to be supplying {recipient.name} with {goods}"),
                              ".")
            self._record("transfer", SC.Transfer, f"{supplier.name}'s alleged supply of {goods} to {recipient.name}",
                         SC.Alleged, [spans["fact"]], *details, (SC.hedgeCue, _plain("is alleged to be")))

    def _agreement(self) -> None:
        parties = [self._state()]
        while len(parties) < self.rng.choice((2, 2, 2, 3)):
            parties.append(self._state(*(p.iri for p in parties)))
        names = _and([p.name for p in parties])
        details = [(SC.party, p.iri) for p in parties]
        mode = self.rng.choices(("partnership", "alliance", "planned", "contract"), (3.5, 2.5, 2.5, 1.5))[0]
        if mode == "partnership":
            signed = self._month_in()
            spans = self._say(("fact", f"{names} signed a Comprehensive Strategic Partnership Agreement "
                                       f"on {_long_date(signed)}"), ".")
            agreement = self._record("agreement", SC.Agreement, f"Strategic partnership of {names}",
                                     SC.AssertedByAuthor, [spans["fact"]], *details,
                                     (SC.agreementKind, SC.StrategicPartnershipTreaty),
                                     (SC.agreementStatus, SC.Signed), (SC.signingDate, _day(signed)),
                                     (SC.dateAsWritten, _plain(f"on {_long_date(signed)}")))
        elif mode == "alliance":
            spans = self._say(("fact", f"the alliance of {names}"), " remains in force.")
            agreement = self._record("agreement", SC.Agreement, f"Alliance of {names}", SC.AssertedByAuthor,
                                     [spans["fact"]], *details, (SC.agreementKind, SC.AllianceAgreement),
                                     (SC.agreementStatus, SC.InForce))
        elif mode == "planned":
            item = self.rng.choice(self.population.items)
            year = self.date.year
            spans = self._say(("fact", f"{names} agreed to sign a new contract for the export of {item.name} "
                                       f"by the end of {year}"), ".")
            agreement = self._record("agreement", SC.Agreement, f"Planned export contract for {item.name}", SC.Planned,
                                     [spans["fact"]], *details, (SC.agreementKind, SC.ArmsExportContract),
                                     (SC.agreementStatus, SC.PlannedAgreement), (SC.plannedSigningBy, _year(year)),
                                     (SC.item, item.iri), (SC.timeframeAsWritten, _plain(f"by the end of {year}")))
            self._record("transfer", SC.Transfer, f"Planned export of {item.name} from {parties[0].name}", SC.Planned,
                         [spans["fact"]], (SC.supplier, parties[0].iri), (SC.recipient, parties[1].iri),
                         (SC.item, item.iri))
        else:
            month = self._month_in()
            spans = self._say(("fact", f"{names} signed an arms export contract in {month:%B %Y}"), ".")
            agreement = self._record("agreement", SC.Agreement, f"Arms export contract of {names}", SC.AssertedByAuthor,
                                     [spans["fact"]], *details, (SC.agreementKind, SC.ArmsExportContract),
                                     (SC.agreementStatus, SC.Signed), (SC.signingDate, _month(month)),
                                     (SC.dateAsWritten, _plain(f"in {month:%B %Y}")))
        if self.rng.random() < 0.4:
            first, second = parties[0], parties[1]
            basis = f"security cooperation between {first.name} and {second.name} has taken a step forward"
            spans = self._say("This means that ", ("basis", basis), ".")
            relation = self._record("relation", SC.Relation, f"{first.name} aligned with {second.name}",
                                    SC.AssertedByAuthor, [spans["basis"]], (SC.firstActor, first.iri),
                                    (SC.secondActor, second.iri), (SC.stance, SC.Aligned), (SC.basis, _plain(basis)))
            self._claim(f"Author: {first.name}–{second.name} cooperation has taken a step forward",
                        _capitalised(basis) + ".", [SC.Argues], SC.Firm, SC.AssertedByAuthor,
                        spans["sentence"], [relation, agreement], ["This means"])

    def _sanction(self) -> None:
        imposer = self._state()
        target = self._state(imposer.iri)
        details = [(SC.imposer, imposer.iri), (SC.sanctionTarget, target.iri)]
        if self.population.blocs and self.rng.random() < 0.5:
            bloc = self.population.blocs[0]
            spans = self._say(("fact", f"{imposer.name} has also joined the sanctions of {bloc.name} "
                                       f"against {target.name}"), ".")
            self._record("sanction", SC.Sanction, f"{imposer.name} joins sanctions against {target.name}",
                         SC.AssertedByAuthor, [spans["fact"]], *details, (SC.joinedWith, bloc.iri))
        else:
            month = self._month_in()
            spans = self._say(f"{imposer.name} imposed new sanctions on {target.name} in {month:%B %Y}.")
            self._record("sanction", SC.Sanction, f"{imposer.name} sanctions {target.name}", SC.AssertedByAuthor,
                         [spans["sentence"]], *details, (SC.date, _month(month)),
                         (SC.dateAsWritten, _plain(f"in {month:%B %Y}")))
        if self.rng.random() < 0.5:
            basis = f"{imposer.name} is trying to isolate {target.name}"
            spans = self._say(("basis", basis), " through its sanctions.")
            self._record("relation", SC.Relation, f"{imposer.name} opposed to {target.name}", SC.AssertedByAuthor,
                         [spans["basis"]], (SC.firstActor, imposer.iri), (SC.secondActor, target.iri),
                         (SC.stance, SC.Opposed), (SC.basis, _plain(basis)))

    def _aid(self) -> None:
        donor = self._state()
        beneficiary = self._state(donor.iri)
        kind, status, words = self.rng.choices(
            ((SC.HumanitarianAid, SC.AssertedByAuthor, f"{donor.name} sent humanitarian aid to {beneficiary.name}"),
             (SC.MilitaryAid, SC.AssertedByAuthor, f"{donor.name} provided military aid to {beneficiary.name}"),
             (SC.DirectMilitaryAssistance, SC.Negated,
              f"{donor.name} has given no direct military assistance to {beneficiary.name}")), (4, 3.5, 2.5))[0]
        spans = self._say(("fact", words), ".")
        self._record("aid", SC.Aid, words, status, [spans["fact"]], (SC.donor, donor.iri),
                     (SC.beneficiary, beneficiary.iri), (SC.aidKind, kind))

    def _visit(self) -> None:
        visitor = self.corpus.official(self.rng)
        host = self._state(*([visitor.home] if visitor.home else []))
        month = self._month_in()
        sites = self.population.sites_in.get(host.iri, [])
        site = self.rng.choice(sites) if sites and self.rng.random() < 0.5 else None
        spans = self._say(f"in {month:%B %Y}, ", self._speaker_piece(visitor, "visitor"), f" visited {host.name}"
                          + (f" and toured {site.name}" if site else "") + ".")
        self._record("visit", SC.Visit, f"{visitor.person.name}'s visit to {host.name}, {month:%B %Y}",
                     SC.AssertedByAuthor, [spans["sentence"]], (SC.visitor, visitor.person.iri), (SC.host, host.iri),
                     (SC.date, _month(month)), (SC.dateAsWritten, _plain(f"in {month:%B %Y}")),
                     (SKOS.editorialNote, _english(f'Dated by the month the article gives ("in {month:%B %Y}").')),
                     *([(SC.visitedSite, site.iri)] if site else []))
        self._tenure(visitor, spans["visitor"])

    def _summit(self) -> None:
        first = self.corpus.official(self.rng)
        second = self.corpus.official(self.rng, first.person.iri)
        host = self._state()
        accused = self._state(host.iri)
        content = f"{accused.name}’s military activities are a violation of the UN Charter"
        spans = self._say(("summit", f"at a summit in {host.name} on {_long_date(self.date)}"), ", ",
                          self._speaker_piece(first, "first"), " and ", self._speaker_piece(second, "second"),
                          " agreed that ", ("content", content), ".")
        summit = self._record("summit", SC.Summit, f"Summit of {first.person.name} and {second.person.name}",
                              SC.AssertedByAuthor, [spans["summit"]], (SC.attendee, first.person.iri),
                              (SC.attendee, second.person.iri), (SC.date, _day(self.date)))
        self._statement(f"{first.person.name} and {second.person.name} condemn {accused.name}",
                        {"first": first, "second": second}, [SC.Agrees, SC.Condemns], spans, [accused.iri],
                        (SC.paraphrase, _plain(content)), (SC.ground, SC.ViolationOfUnCharter), (SC.occasion, summit),
                        (SC.dateAsWritten, _plain(f"on {_long_date(self.date)}")), dated_in_text=True)

    def _relation(self) -> None:
        first = self._state()
        second = self._actor(first.iri)
        mode = self.rng.choices(("aligned", "opposed", "hedged"), (4, 3, 3))[0]
        if mode == "aligned":
            basis = f"{first.name} is deepening its security cooperation with {second.name}"
            stance, status = SC.Aligned, SC.AssertedByAuthor
            spans = self._say(("basis", basis), ".")
        elif mode == "opposed":
            basis = f"{first.name} sees {second.name} as a threat to regional peace"
            stance, status = SC.Opposed, SC.AssertedByAuthor
            spans = self._say(("basis", basis), ".")
        else:
            basis = f"{first.name} is trying to limit the influence of {second.name}"
            stance, status = SC.Opposed, SC.HedgedAnalysis
            spans = self._say("It can be argued that ", ("basis", basis), ".")
        relation = self._record("relation", SC.Relation, f"{first.name} and {second.name}: {basis}", status,
                                [spans["basis"]], (SC.firstActor, first.iri), (SC.secondActor, second.iri),
                                (SC.stance, stance), (SC.basis, _plain(basis)))
        if mode == "hedged":
            self._claim(f"Author: {basis}", basis + ".", [SC.Argues], SC.Arguable, SC.HedgedAnalysis,
                        spans["sentence"], [relation], ["It can be argued"])

    def _outlook(self) -> None:
        mode = self.rng.choices(("speculation", "possible", "inevitable"), (3, 4, 3))[0]
        if mode == "speculation":
            conflict = self.rng.choice(self.population.conflicts)
            year = self.date.year + 1
            words = f"{conflict.name} will potentially end after {year}"
            spans = self._say("There is speculation that ", ("development", words), ".")
            ending = f"{_capitalised(conflict.name)} ends after {year}"
            development = self._record(
                "development", SC.Development, f"{ending} (speculation)", SC.Speculation,
                [spans["development"]], (SC.description, _plain(ending + ".")),
                (SC.inConflict, conflict.iri), (SC.condition, _plain(f"after {year}")), (SC.certainty, SC.Possible),
                (SC.hedgeCue, _plain("there is speculation")), (SC.hedgeCue, _plain("potentially")))
            self._claim(f"Author reports speculation that {words}", f"There is speculation that {words}.",
                        [SC.Reports], SC.Possible, SC.Speculation, spans["sentence"], [development],
                        ["there is speculation", "potentially"])
        elif mode == "possible":
            supporter = self._state()
            supported = self._state(supporter.iri)
            region = self.rng.choice(self.population.regions)
            support = f"{supporter.name}’s support for {supported.name}"
            words = f"{support} may change the balance of power in {region.name}"
            spans = self._say("It can also be argued that ", ("development", words), ".")
            development = self._record(
                "development", SC.Development, f"The balance of power in {region.name} changes (possible)",
                SC.Conditional, [spans["development"]],
                (SC.description, _plain(f"{support} changes the balance of power in {region.name}.")),
                (SC.affectedRegion, region.iri), (SC.certainty, SC.Possible), (SC.hedgeCue, _plain("may")))
            self._claim(f"Author: {words}", words + ".", [SC.Argues, SC.Predicts], SC.Arguable, SC.HedgedAnalysis,
                        spans["sentence"], [development], ["It can also be argued", "may"])
        else:
            first = self._state()
            second = self._state(first.iri)
            words = f"tensions between {first.name} and {second.name} will escalate further"
            spans = self._say("To conclude, it seems inevitable that ", ("development", words), ".")
            development = self._record(
                "development", SC.Development, f"Escalation between {first.name} and {second.name} (predicted)",
                SC.Conditional, [spans["development"]],
                (SC.description, _plain(f"Tensions between {first.name} and {second.name} escalate further.")),
                (SC.affectedActor, first.iri), (SC.affectedActor, second.iri), (SC.certainty, SC.Firm),
                (SC.hedgeCue, _plain("it seems inevitable")))
            self._claim(f"Author: {words}", _capitalised(words) + ".", [SC.Argues, SC.Predicts], SC.Firm,
                        SC.HedgedAnalysis, spans["sentence"], [development], ["it seems inevitable"])


# ---------------------------------------------------------------------------------------------
# Writing the corpus
# ---------------------------------------------------------------------------------------------

def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"').replace("\r", "\\r")


def _nquad_lines(triples: Iterable[tuple], graph: URIRef) -> list[str]:
    """N-Quads lines written as rdflib writes them (statecraft.publish), without rdflib's per-term overhead."""
    name = f"<{graph}> .\n"
    lines = []
    for s, p, o in triples:
        if isinstance(o, Literal):
            suffix = f"@{o.language}" if o.language else (f"^^<{o.datatype}>" if o.datatype else "")
            lines.append(f'<{s}> <{p}> "{_escaped(o)}"{suffix} {name}')
        else:
            lines.append(f"<{s}> <{p}> <{o}> {name}")
    return sorted(set(lines))


class _DumpWriter:
    """Appends N-Quads lines to a file, counting them per graph and hashing the bytes."""

    def __init__(self, path: Path):
        self.file = path.open("wb")
        self.digest = hashlib.sha256()
        self.counts: dict[str, int] = {}

    def write(self, graph: URIRef, lines: list[str]) -> None:
        data = "".join(lines).encode("utf-8")
        self.file.write(data)
        self.digest.update(data)
        self.counts[str(graph)] = self.counts.get(str(graph), 0) + len(lines)

    def close(self) -> None:
        self.file.close()


def _void_turtle(report: dict) -> str:
    dataset = str(DATASET_IRI)
    graphs = report["triples_per_graph"]
    subsets = [f"{dataset}/graph/{name[len(BASE + 'graph/'):]}" for name in graphs]
    lines = [
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .",
        "@prefix void: <http://rdfs.org/ns/void#> .",
        "",
        f"<{dataset}> a void:Dataset ;",
        f'    dcterms:title "Statecraft synthetic corpus: {report["articles"]} articles, seed {report["seed"]}"@en ;',
        f'    dcterms:description "Generated by {GENERATOR} for benchmarks; it reports nothing that happened."@en ;',
        f'    dcterms:identifier "{report["content_hash"]}" ;',
        f'    void:triples {report["triples"]} ;',
        f'    void:uriSpace "{ID}" ;',
        "    void:subset " + ",\n        ".join(f"<{s}>" for s in subsets) + " .",
    ]
    for subset, (name, count) in zip(subsets, graphs.items()):
        lines += ["", f"<{subset}> a void:Dataset ;", f"    sd:name <{name}> ;", f"    void:triples {count} ."]
    return "\n".join(lines) + "\n"


def generate(out: Path, articles: int, seed: int = 0, root: Path | None = None,
             say: Callable[[str], None] = print) -> dict:
    """Write a synthetic corpus of ``articles`` articles to ``out``; return its build report.

    ``out`` receives statecraft.nq, build-report.json, void.ttl and context.jsonld. The dump holds
    the ontology, the reference graph and their inferences, then each article followed by what it
    adds to the inferred graph, each group in sorted lines. It is written beside its final name and
    renamed when complete.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = SyntheticCorpus(articles, seed, root)
    say(f"{GENERATOR}: {articles} article(s), seed {seed}, {len(corpus.population.states)} states "
        f"({len(corpus.population.states) - corpus.real_state_count} synthetic)")
    partial = out / "statecraft.nq.partial"
    dump = _DumpWriter(partial)
    try:
        for name, lines in _fixed_lines(corpus):
            dump.write(name, lines)
        dump.write(INFERRED_GRAPH, _nquad_lines(corpus.base_inferred, INFERRED_GRAPH))
        spans = 0
        first_article: list[tuple] = []
        for index in range(articles):
            chunk = corpus.article(index)
            first_article = first_article or chunk.asserted
            spans += sum(1 for _, p, o in chunk.asserted if p == RDF.type and o == SC.EvidenceSpan)
            graph = article_graph(article_slug(index))
            dump.write(graph, _nquad_lines(chunk.asserted, graph))
            dump.write(INFERRED_GRAPH, _nquad_lines(chunk.inferred, INFERRED_GRAPH))
            if (index + 1) % max(1, articles // 10) == 0:
                say(f"  {index + 1} articles, {sum(dump.counts.values()):,} triples")
    except BaseException:
        dump.close()
        partial.unlink()
        raise
    dump.close()
    os.replace(partial, out / "statecraft.nq")

    report = {
        "generator": GENERATOR,
        "seed": seed,
        "articles": articles,
        "states": len(corpus.population.states),
        "synthetic_states": len(corpus.population.states) - corpus.real_state_count,
        "evidence_spans": spans,
        "inferred_triples": dump.counts[str(INFERRED_GRAPH)],
        "triples": sum(dump.counts.values()),
        "triples_per_graph": dict(sorted(dump.counts.items())),
        "content_hash": f"sha256:{dump.digest.hexdigest()}",
    }
    (out / "build-report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out / "void.ttl").write_text(_void_turtle(report), encoding="utf-8")
    context = jsonld_context([corpus.ontology, corpus.reference, first_article])
    (out / "context.jsonld").write_text(json.dumps({"@context": context}, indent=2, sort_keys=True,
                                                   ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"{GENERATOR}: {report['triples']:,} triples in {out / 'statecraft.nq'} ({report['content_hash'][:23]}…)")
    return report


def _fixed_lines(corpus: SyntheticCorpus) -> list[tuple[URIRef, list[str]]]:
    """The ontology and reference graphs, written exactly as the build writes them."""
    graphs = {ONTOLOGY_GRAPH: canonical(corpus.ontology), REFERENCE_GRAPH: canonical(corpus.reference)}
    return [(name, nquads_lines({name: graph})) for name, graph in graphs.items()]


def article_quads(index: int, seed: int = 0, articles: int | None = None, root: Path | None = None) -> Graph:
    """Synthetic article ``index`` on its own, as a graph named after it, without inferences.

    ``articles`` is the size of the corpus the article is for (its population of states); by
    default ``index``, the corpus of the articles before it, to which it is a newly added article.
    """
    corpus = SyntheticCorpus(index if articles is None else articles, seed, root)
    graph = Graph(identifier=article_graph(article_slug(index)))
    for triple in corpus.article_triples(index):
        graph.add(triple)
    return graph


def triples_for_size(target_triples: int, seed: int = 0, root: Path | None = None) -> int:
    """The number of articles whose corpus has about ``target_triples`` triples (within a few per cent).

    The fixed part (ontology, reference, their inferences) is counted exactly, the articles' share
    from a sample of the first articles. The population grows with the number of articles, so the
    estimate is repeated until it gives the population it was made with.
    """
    articles = target_triples // TYPICAL_ARTICLE_TRIPLES
    for _ in range(4):
        corpus = SyntheticCorpus(articles, seed, root)
        fixed = len(corpus.ontology) + len(corpus.reference) + len(corpus.base_inferred)
        sample = range(min(max(articles, 1), SIZE_SAMPLE))
        per_article = sum(len(c.asserted) + len(c.inferred) for c in map(corpus.article, sample)) / len(sample)
        estimate = max(0, round((target_triples - fixed) / per_article))
        if synthetic_state_count(estimate) == synthetic_state_count(articles):
            break
        articles = estimate
    return estimate
