"""Validated writes: a SPARQL Update or a Graph Store write becomes a new generation of the store
only if the shapes still hold for every node it touched.

Runs in the writer process (statecraft.writer). For one write:

1. copy the current generation into a candidate (statecraft.generations);
2. apply the change to the candidate: the update by Oxigraph itself, so every form of SPARQL 1.1
   Update keeps its standard meaning; a Graph Store write as the quads it replaces, adds or removes;
3. find what changed: the quads of every graph the request can have touched, before and after;
4. keep the server's own graphs as they were (the journal, the ontology) and recompute the
   inferred graph from the asserted ones (statecraft.reason.materialise), as the build does;
5. journal the change (statecraft.journal), in the same candidate, so data and journal commit together;
6. validate the nodes the change touched, with the neighbours the shapes read
   (statecraft.incremental.validate_change);
7. commit (rename + pointer) or throw the candidate away: 422 with the report, and nothing changed.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from . import journal
from .generations import Generations
from .namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH
from .workers import QueryFailed

PROTECTED = {journal.JOURNAL_GRAPH: "the journal of curated writes, which only the server writes",
             str(ONTOLOGY_GRAPH): "the ontology, curated in ontology/statecraft.ttl and loaded by `statecraft build`",
             str(INFERRED_GRAPH): "the reasoner's inferences, recomputed from the asserted graphs after every write"}
ALL_GRAPHS = "ALL"
DEFAULT = ox.DefaultGraph()
UPLOAD_FORMATS = {  # media type → pyoxigraph RdfFormat name
    "text/turtle": "TURTLE", "application/x-turtle": "TURTLE", "application/n-triples": "N_TRIPLES",
    "text/plain": "N_TRIPLES", "application/rdf+xml": "RDF_XML", "application/ld+json": "JSON_LD",
    "text/n3": "N3", "application/trig": "TRIG", "application/n-quads": "N_QUADS",
}


@dataclass(frozen=True)
class WriteJob:
    """One write, as the front process parsed it. `graph` is an IRI or None for the default graph."""
    kind: str                                   # "update", or the Graph Store methods "PUT", "POST", "DELETE"
    agent: str                                  # the name of the token that authorised it
    text: str | None = None                     # the SPARQL Update
    using: tuple[str, ...] = ()                 # using-graph-uri
    using_named: tuple[str, ...] = ()           # using-named-graph-uri
    base_iri: str | None = None
    graph: str | None = None
    body: bytes = b""
    content_type: str | None = None
    max_write_quads: int = 100_000


@dataclass
class WriteOutcome:
    status: int                                 # 200, 201, 204 (no change), 404, 422
    message: str
    inserted: int = 0
    deleted: int = 0
    change: str | None = None
    generation: Path | None = None
    counts: dict[str, int] | None = None
    violations: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    report_turtle: str | None = None
    created: bool = False
    seconds: float = 0.0

    def as_json(self) -> dict:
        body = {"status": self.status, "message": self.message, "inserted": self.inserted, "deleted": self.deleted,
                "change": self.change, "warnings": self.warnings}
        if self.violations:
            body["violations"] = self.violations
        return body


# --------------------------------------------------------------------------------------------
# What a request can touch
# --------------------------------------------------------------------------------------------

def _term_iri(term) -> str | None:
    from rdflib import URIRef
    return str(term) if isinstance(term, URIRef) else None


def update_targets(text: str, base_iri: str | None) -> set | str:
    """The graphs an update can change (IRIs, DEFAULT), or ALL_GRAPHS when it cannot be told from its text
    (CLEAR ALL, DROP NAMED, a GRAPH ?g template). Raises QueryFailed(403) for one naming a protected graph
    or using LOAD, which reads from the network or the file system."""
    from rdflib import Variable
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate
    from .protocol import unescape_codepoints
    try:   # escapes undone first, as Oxigraph does, so that both read the same graph IRIs
        operations = translateUpdate(parseUpdate(unescape_codepoints(text)), base=base_iri).algebra
    except Exception:
        return ALL_GRAPHS   # Oxigraph accepted it (it checked the syntax first); rdflib cannot read it
    targets: set = set()
    everything = False

    def add_quads(quads, default_target):
        nonlocal everything
        if not quads:
            return
        for graph_term, triples in quads.items():
            if graph_term is None:
                if triples:
                    targets.add(default_target)
            elif isinstance(graph_term, Variable):
                everything = True
            else:
                targets.add(ox.NamedNode(str(graph_term)))

    def graph(term):
        return DEFAULT if term == "DEFAULT" else ox.NamedNode(str(term))

    for op in operations:
        name = op.name
        if name == "Load":
            raise QueryFailed(403, "LOAD is refused: it would make this server read a URL or a local file. "
                                   "Send the data itself with INSERT DATA or a Graph Store PUT/POST")
        if name in ("InsertData", "DeleteData", "DeleteWhere"):
            add_quads(dict.get(op, "quads"), DEFAULT)
            if dict.get(op, "triples"):
                targets.add(DEFAULT)
        elif name == "Modify":
            default_target = graph(op["withClause"]) if _term_iri(dict.get(op, "withClause")) else DEFAULT
            for clause in (dict.get(op, "delete"), dict.get(op, "insert")):
                if clause is None:
                    continue
                add_quads(dict.get(clause, "quads"), default_target)
                if dict.get(clause, "triples"):
                    targets.add(default_target)
        elif name in ("Clear", "Drop", "Create"):
            named = dict.get(op, "graphiri")
            if named in ("ALL", "NAMED"):
                everything = True
            elif named is not None:
                targets.add(graph(named))
        elif name in ("Add", "Move", "Copy"):
            source, target = dict.get(op, "graph")
            targets.add(graph(target))
            if name == "Move":
                targets.add(graph(source))
        else:
            everything = True
    for target in targets:
        if isinstance(target, ox.NamedNode) and target.value in PROTECTED:
            raise QueryFailed(403, f"<{target.value}> is {PROTECTED[target.value]}; a write may not change it")
    return ALL_GRAPHS if everything else targets


_WHERE = re.compile(r"(?<![\w:?$])WHERE(?![\w:-])", re.I)


def with_using(text: str, using: tuple[str, ...], using_named: tuple[str, ...]) -> str:
    """The protocol's using-graph-uri / using-named-graph-uri as USING clauses before each WHERE of
    a DELETE/INSERT operation (SPARQL 1.1 Protocol §2.2.3); the front process has refused requests
    that combine them with USING or WITH."""
    if not using and not using_named:
        return text
    from .protocol import _code_only, unescape_codepoints
    text = unescape_codepoints(text)   # positions below are those of the text the engine will read
    code = _code_only(text, unescaped=True)
    clauses = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named]) + " "
    pieces, last, depth = [], 0, 0
    for index, char in enumerate(code):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and char in "Ww" and _WHERE.match(code, index) and not _follows_delete(code, index):
            pieces.append(text[last:index] + clauses)
            last = index
    pieces.append(text[last:])
    return "".join(pieces)


def _follows_delete(code: str, index: int) -> bool:
    """DELETE WHERE { … } takes no USING clause."""
    return re.search(r"(?<![\w:?$])DELETE\s*$", code[:index], re.I) is not None


# --------------------------------------------------------------------------------------------
# Graph Store bodies
# --------------------------------------------------------------------------------------------

def _media(content_type: str | None) -> tuple[str, dict]:
    from .protocol import _media_type
    return _media_type(content_type)


def parse_upload(body: bytes, content_type: str | None, base_iri: str, graph: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
    """The triples of a Graph Store body (one RDF document, or a multipart/form-data of several), in `graph`."""
    media, params = _media(content_type)
    if media == "multipart/form-data":
        quads = []
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
        if not message.is_multipart():
            raise QueryFailed(400, "the multipart/form-data body has no parts (is its boundary right?)")
        for index, part in enumerate(message.iter_parts(), 1):
            part_type = part.get("Content-Type") or _guess_type(part.get_filename())
            payload = part.get_payload(decode=True) or b""
            quads.extend(parse_upload(payload, part_type, base_iri, graph))
        return quads
    if media not in UPLOAD_FORMATS:
        raise QueryFailed(415, f"unsupported media type {media or '(none)'} for a Graph Store write; send one of "
                               + ", ".join(sorted(set(UPLOAD_FORMATS))) + " or multipart/form-data")
    charset = params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise QueryFailed(415, f"RDF uploads must be UTF-8; the request declares charset={charset}")
    if media == "application/rdf+xml" and re.search(rb"<!\s*(DOCTYPE|ENTITY)", body, re.I):
        raise QueryFailed(400, "RDF/XML with a DOCTYPE or ENTITY declaration is refused: entity expansion can "
                               "make a few hundred bytes grow to gigabytes. Send the document without one")
    refuse_deep_upload(body, media)
    rdf_format = getattr(ox.RdfFormat, UPLOAD_FORMATS[media])
    try:
        parsed = list(ox.parse(body, format=rdf_format, base_iri=base_iri, without_named_graphs=False))
    except SyntaxError as error:
        raise QueryFailed(400, f"the {media} body is not valid: {error}") from None
    except (ValueError, OSError) as error:
        raise QueryFailed(400, f"the {media} body cannot be read: {error}") from None
    quads = []
    for quad in parsed:
        if not isinstance(quad.graph_name, ox.DefaultGraph):
            raise QueryFailed(400, f"a Graph Store write carries one graph's triples; the {media} body names the "
                                   f"graph {quad.graph_name}")
        quads.append(ox.Quad(quad.subject, quad.predicate, quad.object, graph))
    return quads


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_XML_TAG = re.compile(rb"<(/?)[^<>!?]*?(/?)>")


def refuse_deep_upload(body: bytes, media: str) -> None:
    """Oxigraph's parsers recurse on nesting (JSON-LD objects, Turtle's [ ] and ( ), XML elements): a
    few thousand levels overflow the stack. Refused before parsing, in one linear scan."""
    from .protocol import MAX_NESTING, _code_only, nesting_depth
    if media == "application/ld+json":
        depth = nesting_depth(_JSON_STRING.sub(b'""', body).decode("utf-8", "replace"), "{[", "}]")
    elif media == "application/rdf+xml":
        depth = deepest = 0
        for tag in _XML_TAG.finditer(body):
            if tag.group(1):
                depth = max(0, depth - 1)
            elif not tag.group(2):
                depth += 1
                deepest = max(deepest, depth)
        depth = deepest
    else:
        depth = nesting_depth(_code_only(body.decode("utf-8", "replace")), "{([", "})]")
    if depth > MAX_NESTING:
        raise QueryFailed(400, f"the {media} body nests {depth} levels deep; the limit is {MAX_NESTING}")


def _guess_type(filename: str | None) -> str | None:
    suffixes = {".ttl": "text/turtle", ".nt": "application/n-triples", ".rdf": "application/rdf+xml",
                ".jsonld": "application/ld+json", ".n3": "text/n3"}
    return next((media for suffix, media in suffixes.items() if filename and filename.endswith(suffix)), None)


# --------------------------------------------------------------------------------------------
# One write, in the writer process
# --------------------------------------------------------------------------------------------

def _graph_term(iri: str | None):
    return DEFAULT if iri is None else ox.NamedNode(iri)


def _quads(store: ox.Store, graph) -> set:
    return set(store.quads_for_pattern(None, None, None, graph))


def _graph_exists(store: ox.Store, graph) -> bool:
    if isinstance(graph, ox.DefaultGraph):
        return next(iter(store.quads_for_pattern(None, None, None, graph)), None) is not None
    return store.contains_named_graph(graph)


class Writer:
    """Applies writes to the store folder `root`; one instance per writer process."""

    def __init__(self, root: Path, rules_dir: Path | None):
        from . import validate
        self.generations = Generations(root)
        self.rules_dir = rules_dir
        self.shapes = validate.load_shapes()

    def write(self, job: WriteJob) -> WriteOutcome:
        started_clock, started = time.perf_counter(), datetime.now(timezone.utc)
        if job.kind == "update":   # its syntax was checked by the front process (protocol.check_update_syntax)
            targets = update_targets(job.text, job.base_iri)
        else:
            if job.graph in PROTECTED:
                raise QueryFailed(403, f"<{job.graph}> is {PROTECTED[job.graph]}; a write may not change it")
            targets = {_graph_term(job.graph)}
        current = self.generations.current()
        candidate_path = self.generations.candidate_path()
        try:
            ox.Store.read_only(str(current)).backup(str(candidate_path))
            outcome = self._write_candidate(job, current, candidate_path, targets, started)
        except OSError as error:
            shutil.rmtree(candidate_path, ignore_errors=True)
            raise QueryFailed(503, f"the store {self.generations.root} cannot be written ({error}); nothing was "
                                   "committed. Is it on a read-only file system, or full?") from None
        except BaseException:
            shutil.rmtree(candidate_path, ignore_errors=True)
            raise
        if outcome.generation is None:
            shutil.rmtree(candidate_path, ignore_errors=True)
        outcome.seconds = time.perf_counter() - started_clock
        return outcome

    def _write_candidate(self, job: WriteJob, current: Path, candidate_path: Path, targets, started) -> WriteOutcome:
        base = ox.Store.read_only(str(current))
        candidate = ox.Store(str(candidate_path))
        created = False
        if job.kind == "update":
            try:
                candidate.update(with_using(job.text, job.using, job.using_named), base_iri=job.base_iri)
            except SyntaxError as error:
                raise QueryFailed(400, f"SPARQL Update syntax error: {error}") from None
            except (RuntimeError, ValueError, OSError) as error:
                raise QueryFailed(400, f"the update failed, and nothing was changed: {error}") from None
        else:
            graph = _graph_term(job.graph)
            existed = _graph_exists(base, graph)
            if job.kind == "DELETE":
                if not existed and not isinstance(graph, ox.DefaultGraph):   # the default graph always exists
                    return WriteOutcome(404, f"there is no graph <{job.graph}> to delete")
                if isinstance(graph, ox.DefaultGraph):
                    candidate.clear_graph(graph)
                else:
                    candidate.remove_graph(graph)
            else:
                quads = parse_upload(job.body, job.content_type, job.graph or job.base_iri, graph)
                if job.kind == "PUT" and existed:
                    candidate.clear_graph(graph)
                if not isinstance(graph, ox.DefaultGraph):
                    candidate.add_graph(graph)
                candidate.extend(quads)
                created = not existed

        graphs = self._graphs_to_compare(base, candidate, targets)
        inserted, deleted = [], []
        for graph in graphs:
            before, after = _quads(base, graph), _quads(candidate, graph)
            if isinstance(graph, ox.NamedNode) and graph.value in PROTECTED:
                # Over all graphs (CLEAR ALL, GRAPH ?g templates) a protected graph stays as it was;
                # the inferred graph is recomputed below.
                if graph.value != str(INFERRED_GRAPH):
                    self._restore(candidate, graph, before, after)
                continue
            inserted.extend(after - before)
            deleted.extend(before - after)
            if len(inserted) + len(deleted) > job.max_write_quads:
                raise QueryFailed(413, f"the write would change more than {job.max_write_quads} quads; split it, or "
                                       "raise STATECRAFT_MAX_WRITE_QUADS")
        graphs_changed = {g for g in graphs if getattr(g, 'value', None) not in PROTECTED and _graph_exists(base, g) != _graph_exists(candidate, g)}
        if not inserted and not deleted and not graphs_changed:
            return WriteOutcome(200 if not created else 201, "the write changes nothing; the store is as it was",
                                created=created)

        sequence = journal.last_sequence(base) + 1
        change, entry = journal.entry(sequence, job.agent, _request_text(job), started, inserted, deleted)
        candidate.extend(entry)
        inferred_change = self._reason(candidate)
        outcome = self._validate(candidate, inserted + deleted + inferred_change)
        if outcome.violations:
            return WriteOutcome(422, f"the write would break {len(outcome.violations)} shape constraint(s); nothing "
                                     "was changed", violations=[_result_json(r) for r in outcome.violations],
                                warnings=[_result_json(r) for r in outcome.warnings],
                                report_turtle=outcome.report.serialize(format="turtle"))
        counts = self._counts(base, candidate, current, graphs | {ox.NamedNode(journal.JOURNAL_GRAPH),
                                                                ox.NamedNode(str(INFERRED_GRAPH))})
        candidate.flush()
        del candidate, base
        Generations.write_counts(candidate_path, counts)
        generation = self.generations.commit(candidate_path)
        status = 201 if created else 200
        return WriteOutcome(status, f"committed: {len(inserted)} quad(s) inserted, {len(deleted)} deleted",
                            len(inserted), len(deleted), change, generation, counts,
                            warnings=[_result_json(r) for r in outcome.warnings], created=created)

    @staticmethod
    def _graphs_to_compare(base: ox.Store, candidate: ox.Store, targets) -> set:
        if targets == ALL_GRAPHS:
            return {DEFAULT, *base.named_graphs(), *candidate.named_graphs()}
        return set(targets)

    @staticmethod
    def _restore(candidate: ox.Store, graph, before: set, after: set) -> None:
        for quad in after - before:
            candidate.remove(quad)
        if before and not candidate.contains_named_graph(graph):
            candidate.add_graph(graph)
        candidate.extend(before - after)

    def _reason(self, candidate: ox.Store) -> list[ox.Quad]:
        """Replace the inferred graph by the inferences of everything asserted, as the build computes
        them; returns the inferred quads that came or went (their nodes are validated too: a chain
        through a changed node can change a statement about two others)."""
        from rdflib import Graph
        from . import reason
        from .incremental import _rdflib_term
        inferred_graph = ox.NamedNode(str(INFERRED_GRAPH))
        asserted = Graph()
        for quad in candidate.quads_for_pattern(None, None, None, None):
            if quad.graph_name != inferred_graph:
                asserted.add((_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object)))
        wanted = {ox.Quad(_oxigraph_term(s), _oxigraph_term(p), _oxigraph_term(o), inferred_graph)
                  for s, p, o in reason.materialise(asserted, self.rules_dir)}
        present = _quads(candidate, inferred_graph)
        for quad in present - wanted:
            candidate.remove(quad)
        candidate.extend(wanted - present)
        return list(present ^ wanted)

    def _validate(self, candidate: ox.Store, changed: list[ox.Quad]):
        from .incremental import _graph_from_store, validate_change
        ontology = _graph_from_store(candidate, ONTOLOGY_GRAPH)
        return validate_change(candidate, changed, ontology, self.shapes)

    @staticmethod
    def _counts(base: ox.Store, candidate: ox.Store, current: Path, graphs: set) -> dict[str, int]:
        counts = dict(Generations.read_counts(current) or {})
        if not counts:
            graphs = set(base.named_graphs()) | set(candidate.named_graphs())
        for graph in graphs:
            if isinstance(graph, ox.DefaultGraph):
                continue
            if candidate.contains_named_graph(graph):
                counts[graph.value] = sum(1 for _ in candidate.quads_for_pattern(None, None, None, graph))
            else:
                counts.pop(graph.value, None)
        return counts


def _request_text(job: WriteJob) -> str:
    if job.kind == "update":
        using = "".join(f"\n# using-graph-uri={g}" for g in job.using) + \
                "".join(f"\n# using-named-graph-uri={g}" for g in job.using_named)
        return job.text + using
    return f"Graph Store {job.kind} {_label(job.graph)}"


def _label(graph: str | None) -> str:
    return "the default graph" if graph is None else f"<{graph}>"


def _result_json(result) -> dict:
    """One validation result for programs: terms in N-Triples form (full IRIs), the path as SPARQL."""
    from .validate import format_path
    return {"severity": result.severity, "focusNode": result.focus.n3(),
            "resultPath": format_path(result.path) if result.path is not None else None,
            "value": result.value.n3() if result.value is not None else None,
            "message": result.message, "sourceShape": result.source_shape.n3(),
            "constraint": str(result.component) if result.component is not None else None}


def _oxigraph_term(term):
    from rdflib import BNode, Literal, URIRef
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")
