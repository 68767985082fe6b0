"""Dereferenceable identifiers: every ``…/id/…`` IRI and the ontology, as HTML for people and as RDF for
programs (content negotiation, or a ``format`` parameter that overrides it).

The router asks the graph only through ``request.app.state.queries`` (``select`` returning SPARQL-JSON
bindings, ``construct`` returning bytes serialised by Oxigraph), so every RDF representation is written by
Oxigraph's own serialisers and every page is read from the same store the SPARQL endpoint answers from.

Pages are built as plain strings; every value that comes from the graph goes through ``html.escape``
(``_e``) and only ``http``/``https`` IRIs ever become an ``href``. IRIs under ``settings.base_iri`` are
linked to the server that serves the page (``request.base_url``), so a local deployment links to itself;
the RDF keeps the canonical IRIs.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .coverage import sentences
from .namespaces import PREFIXES
from .negotiation import negotiate
from .workers import QueryFailed

__all__ = ["router", "QueryFailed", "FORMATS"]

router = APIRouter()

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
OA = "http://www.w3.org/ns/oa#"
VANN = "http://purl.org/vocab/vann/"
WIKIDATA = "http://www.wikidata.org/entity/"
LABEL_PROPERTIES = (RDFS + "label", SKOS + "prefLabel", DCTERMS + "title", SCHEMA + "name")
INCOMING_LIMIT = 2000
VALUES_PER_PROPERTY = 20   # a page shows at most this many values of one property, with the count and a query for all


# ---------------------------------------------------------------------------------------------
# Representations and negotiation
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Format:
    key: str             # the canonical value of the format parameter
    media_type: str
    name: str
    aliases: tuple[str, ...]


FORMATS = (
    Format("html", "text/html", "HTML", ("html", "htm")),
    Format("ttl", "text/turtle", "Turtle", ("ttl", "turtle")),
    Format("jsonld", "application/ld+json", "JSON-LD", ("jsonld", "json-ld", "json")),
    Format("rdf", "application/rdf+xml", "RDF/XML", ("rdf", "xml", "rdfxml", "rdf+xml", "rdf/xml", "owl")),
    Format("nt", "application/n-triples", "N-Triples", ("nt", "ntriples", "n-triples")),
)
HTML = FORMATS[0]


def _content_type(fmt: Format) -> str:
    return f"{fmt.media_type}; charset=utf-8"


def choose_format(request: Request) -> Format | None:
    """The ``format`` parameter when given (a short name or a media type), else the Accept header."""
    wanted = (request.query_params.get("format") or "").strip().lower()
    if wanted:
        return next((f for f in FORMATS if wanted in f.aliases or wanted == f.media_type), None)
    chosen = negotiate(request.headers.get("accept"), [f.media_type for f in FORMATS])
    return next((f for f in FORMATS if f.media_type == chosen), None)


def _alternates(request: Request) -> str:
    return ", ".join(f'<{_format_url(request, f)}>; rel="alternate"; type="{f.media_type}"' for f in FORMATS)


def _headers(request: Request, link: bool = True) -> dict[str, str]:
    headers = {"Vary": "Accept"}
    if link:
        headers["Link"] = _alternates(request)
    return headers


HTML_SECURITY = {
    # the pages are self-contained: no script, no external fetch
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
}


def _html_response(request: Request, body: str, status: int = 200, link: bool = True) -> Response:
    return Response(body.encode("utf-8"), status_code=status, media_type=_content_type(HTML),
                    headers={**_headers(request, link), **HTML_SECURITY})


def _text_response(request: Request, text: str, status: int, link: bool = False) -> Response:
    return Response(text.encode("utf-8"), status_code=status, media_type="text/plain; charset=utf-8",
                    headers={**_headers(request, link), "X-Content-Type-Options": "nosniff"})


def _not_acceptable(request: Request) -> Response:
    wanted = request.query_params.get("format")
    asked = f"format={wanted!r}" if wanted else f"Accept: {request.headers.get('accept', '')}"
    lines = [f"406 Not Acceptable: no representation matches {asked}.", "",
             "This resource is available as:"]
    lines += [f"  {f.media_type:<22} ?format={f.key}" for f in FORMATS]
    return _text_response(request, "\n".join(lines) + "\n", 406, link=True)


def _settings(request: Request):
    settings = getattr(request.app.state, "settings", None)
    if settings is None:
        from .settings import Settings
        settings = Settings()
    return settings


def _queries(request: Request):
    return getattr(request.app.state, "queries", None)


# ---------------------------------------------------------------------------------------------
# Terms and links
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    kind: str                 # "uri", "literal", "bnode", or anything else the results hold
    value: str
    datatype: str | None = None
    lang: str | None = None

    @classmethod
    def of(cls, binding: dict) -> "Term":
        kind = binding.get("type", "literal")
        if kind == "typed-literal":
            kind = "literal"
        return cls(kind, binding.get("value", ""), binding.get("datatype"), binding.get("xml:lang"))

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f]')


def _safe_iri(iri: str) -> bool:
    """Whether the IRI can go between <…> in a query (RFC 3987 excludes these characters)."""
    return bool(iri) and not _IRI_FORBIDDEN.search(iri)


class Linker:
    """Displays IRIs as links: canonical IRIs under the base to this server, others as they are."""

    def __init__(self, request: Request, settings, labels: dict[str, str] | None = None,
                 definitions: dict[str, str] | None = None, current: str | None = None):
        self.current = current  # the IRI the page is about: its hash IRIs are shown as #fragment
        self.base_iri = settings.base_iri
        self.base_url = str(request.base_url)
        self.labels = labels or {}
        self.definitions = definitions or {}
        self.prefixes: list[tuple[str, str]] = []
        for prefix, namespace in PREFIXES.items():
            namespace = str(namespace)
            if namespace.startswith("https://w3id.org/statecraft/"):
                namespace = self.base_iri + namespace[len("https://w3id.org/statecraft/"):]
            if prefix != "id":
                self.prefixes.append((prefix, namespace))
        self.prefixes.sort(key=lambda pn: -len(pn[1]))

    def local(self, iri: str) -> str | None:
        """The URL of the page this server has for a canonical IRI, or None when it serves none."""
        if not iri.startswith(self.base_iri):
            return None
        rest = iri[len(self.base_iri):]
        if rest == "" or rest.startswith("id/") or rest == "ontology" or rest.startswith(("ontology#", "ontology/")):
            return self.base_url + rest
        return None

    def href(self, iri: str) -> str | None:
        local = self.local(iri)
        if local is not None:
            return local
        if iri.startswith(self.base_iri):
            return None  # under the base but not served here (graph names): no dead link
        return iri if re.match(r"(?i)https?://", iri) else None

    def short(self, iri: str) -> str:
        """A compact name: #fragment for the page's own hash IRIs, a prefixed name, or the path after …/id/."""
        if self.current and iri.startswith(self.current + "#"):
            return iri[len(self.current):]
        if iri.startswith(self.base_iri + "id/"):
            return iri[len(self.base_iri + "id/"):]
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace):]}"
        return iri

    def graph_name(self, iri: str) -> str:
        if iri.startswith(self.base_iri + "graph/"):
            return iri[len(self.base_iri + "graph/"):]
        return self.short(iri)

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or self.short(iri)

    def link(self, iri: str, text: str | None = None, with_short: bool = False) -> str:
        shown = text if text is not None else self.label(iri)
        href = self.href(iri)
        extra = ""
        if with_short and shown != self.short(iri):
            extra = f' <code class="curie">{_e(self.short(iri))}</code>'
        title = self.definitions.get(iri)
        title_attr = f' title="{_e(title)}"' if title else f' title="{_e(iri)}"'
        if href is None:
            return f'<span class="iri"{title_attr}>{_e(shown)}</span>{extra}'
        external = "" if self.local(iri) is not None else ' class="external" rel="external"'
        return f'<a href="{_e(href)}"{external}{title_attr}>{_e(shown)}</a>{extra}'

    def term(self, term: Term) -> str:
        if term.kind == "uri":
            return self.link(term.value)
        if term.kind == "bnode":
            return f'<span class="bnode">_:{_e(term.value)}</span>'
        if term.kind == "literal":
            return literal_html(term, self)
        return f"<span>{_e(term.value)}</span>"


def literal_html(term: Term, linker: Linker) -> str:
    value = term.value
    if term.datatype == XSD + "anyURI" and re.match(r"(?i)https?://", value):
        body = f'<a href="{_e(value)}" class="external" rel="external">{_e(value)}</a>'
    else:
        css = "lit long" if "\n" in value or len(value) > 400 else "lit"
        body = f'<span class="{css}">{_e(value)}</span>'
        if len(value) > 1200:
            body = (f'<details><summary>{_e(value[:200])}… ({len(value):,} characters)</summary>'
                    f'{body}</details>')
    if term.lang:
        return f'{body} <span class="lang">@{_e(term.lang)}</span>'
    if term.datatype and term.datatype not in (XSD + "string",):
        return f'{body} <span class="dt" title="{_e(term.datatype)}">{_e(linker.short(term.datatype))}</span>'
    return body


def _pick_label(candidates: list[tuple[str, Term]]) -> str | None:
    """The best display label among (property, literal) pairs: English rdfs:label first."""
    def rank(pair):
        prop, term = pair
        lang = (term.lang or "").lower()
        lang_rank = 0 if lang in ("en", "en-gb", "en-us") else 1 if not lang else 2
        return (lang_rank, LABEL_PROPERTIES.index(prop) if prop in LABEL_PROPERTIES else 9, term.value)
    literals = [c for c in candidates if c[1].kind == "literal"]
    return min(literals, key=rank)[1].value if literals else None


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def _rows(bindings: list[dict]) -> list[dict[str, Term]]:
    return [{name: Term.of(value) for name, value in row.items()} for row in bindings]


async def _select(queries, query: str) -> list[dict[str, Term]]:
    return _rows(await queries.select(query))


async def _labels(queries, iris: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Display labels and definitions (skos:definition, rdfs:comment) of the given IRIs."""
    iris = sorted(i for i in iris if _safe_iri(i))
    found: dict[str, list[tuple[str, Term]]] = defaultdict(list)
    definitions: dict[str, list[tuple[str, Term]]] = defaultdict(list)
    chunks = [iris[i:i + 400] for i in range(0, len(iris), 400)]
    properties = " ".join(f"<{p}>" for p in (*LABEL_PROPERTIES, SKOS + "definition", RDFS + "comment"))
    results = await asyncio.gather(*(
        _select(queries, f"SELECT ?x ?p ?l WHERE {{ VALUES ?x {{ {' '.join(f'<{i}>' for i in chunk)} }} "
                         f"VALUES ?p {{ {properties} }} ?x ?p ?l }}")
        for chunk in chunks))
    for rows in results:
        for row in rows:
            prop = row["p"].value
            target = definitions if prop in (SKOS + "definition", RDFS + "comment") else found
            target[row["x"].value].append((prop if target is found else RDFS + "label", row["l"]))
    labels = {iri: label for iri, c in found.items() if (label := _pick_label(c))}
    defs = {iri: d for iri, c in definitions.items() if (d := _pick_label(c))}
    return labels, defs


def describe_query(iri: str, sc: str = "https://w3id.org/statecraft/ontology#") -> str:
    """CONSTRUCT of the resource's description: its triples, the triples pointing at it, its evidence spans
    and their selectors, and its hash-IRI and blank-node parts; deduplicated across graphs."""
    return f"""PREFIX sc: <{sc}>
PREFIX oa: <{OA}>
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  SELECT DISTINCT ?s ?p ?o WHERE {{
    {{ <{iri}> ?p ?o BIND(<{iri}> AS ?s) }}
    UNION {{ ?s ?p <{iri}> BIND(<{iri}> AS ?o) }}
    UNION {{ <{iri}> sc:hasEvidence ?s . ?s ?p ?o }}
    UNION {{ <{iri}> sc:hasEvidence ?span . ?span oa:hasSelector ?s . ?s ?p ?o }}
    UNION {{ <{iri}> ?part ?s . FILTER(isBlank(?s) || STRSTARTS(STR(?s), "{iri}#")) ?s ?p ?o }}
  }}
}}"""


async def _exists(queries, iri: str) -> bool:
    rows = await queries.select(f"SELECT ?x WHERE {{ {{ <{iri}> ?p ?x }} UNION {{ ?x ?p <{iri}> }} }} LIMIT 1")
    return bool(rows)


async def _rdf(request: Request, queries, query: str, fmt: Format) -> Response:
    """The CONSTRUCT's result as Oxigraph serialised it (a QueryFailed goes to the caller)."""
    body = await queries.construct(query, fmt.media_type)
    return Response(body, media_type=_content_type(fmt), headers=_headers(request))


def _failure(request: Request, fmt: Format | None, failure: QueryFailed, settings) -> Response:
    """A refusal or failure of the query workers, with its status, as HTML for browsers, else plain text."""
    message, status = failure.message, failure.status
    if fmt is HTML:
        body = _page(request, settings, f"Error {status}", f"<h1>Error {status}</h1><p>{_e(message)}</p>",
                     alternates=False)
        return _html_response(request, body, status, link=False)
    return _text_response(request, f"{status} {message}\n", status)


# ---------------------------------------------------------------------------------------------
# /id/{path}
# ---------------------------------------------------------------------------------------------

def _format_and_queries(request: Request):
    """The negotiated format and the query service, or the response that refuses the request (406, 503)."""
    fmt = choose_format(request)
    if fmt is None:
        return None, None, _not_acceptable(request)
    queries = _queries(request)
    if queries is None:
        return fmt, None, _text_response(request, "503 the graph is not loaded yet\n", 503)
    return fmt, queries, None


@router.api_route("/id/{path:path}", methods=["GET", "HEAD"], include_in_schema=True,
                  summary="A Statecraft identifier, as HTML or RDF (content negotiation)")
async def resource(request: Request, path: str) -> Response:
    settings = _settings(request)
    iri = f"{settings.base_iri}id/{path}"
    fmt, queries, refusal = _format_and_queries(request)
    if refusal is not None:
        return refusal
    try:
        if not _safe_iri(iri) or not await _exists(queries, iri):
            return _not_found(request, settings, iri, fmt)
        if fmt is not HTML:
            return await _rdf(request, queries, describe_query(iri, settings.base_iri + "ontology#"), fmt)
        return _html_response(request, await _resource_page(request, settings, queries, iri))
    except QueryFailed as failure:
        return _failure(request, fmt, failure, settings)


def _not_found(request: Request, settings, iri: str, fmt: Format) -> Response:
    ui = str(request.base_url)
    if fmt is HTML:
        body = (f"<h1>Not known</h1><p>The identifier <code>{_e(iri)}</code> is not known: no triple in the "
                f"graph has it as subject or object.</p><p>Look for what is there with the "
                f'<a href="{_e(ui)}">query interface</a>.</p>')
        return _html_response(request, _page(request, settings, "Not known", body, alternates=False), 404,
                              link=False)
    return _text_response(request, f"404 Not Found: the identifier <{iri}> is not known (no triple has it as "
                                   f"subject or object).\nQuery the graph at {ui}\n", 404)


async def _resource_page(request: Request, settings, queries, iri: str) -> str:
    sc = settings.base_iri + "ontology#"
    # A state takes part in thousands of facts: its many-valued (mostly inferred) properties are shown in
    # part, so that a page costs the same whatever the size of the graph.
    counts, incoming_counts = await asyncio.gather(
        _select(queries, f"SELECT ?p (COUNT(DISTINCT ?o) AS ?n) WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} "
                         f"GROUP BY ?p HAVING (COUNT(DISTINCT ?o) > {VALUES_PER_PROPERTY})"),
        _select(queries, f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} "
                         f"GROUP BY ?p HAVING (COUNT(DISTINCT ?s) > {VALUES_PER_PROPERTY})"))
    capped = {row["p"].value: int(row["n"].value) for row in counts if _safe_iri(row["p"].value)}
    capped_in = {row["p"].value: int(row["n"].value) for row in incoming_counts if _safe_iri(row["p"].value)}
    not_capped = f"FILTER(?p NOT IN ({', '.join(f'<{p}>' for p in sorted(capped))}))" if capped else ""
    not_capped_in = f"FILTER(?p NOT IN ({', '.join(f'<{p}>' for p in sorted(capped_in))}))" if capped_in else ""
    outgoing_q = f"""SELECT ?x ?g ?p ?o WHERE {{
  {{ GRAPH ?g {{ <{iri}> ?p ?o }} {not_capped} BIND(<{iri}> AS ?x) }}
  UNION {{ <{iri}> ?part ?x . FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{iri}#")) GRAPH ?g {{ ?x ?p ?o }} }}
}}"""
    incoming_q = f"SELECT ?g ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} {not_capped_in} }} LIMIT {INCOMING_LIMIT + 1}"
    evidence_q = f"""PREFIX sc: <{sc}>
PREFIX oa: <{OA}>
SELECT ?span ?article ?exact ?start ?end WHERE {{
  {{ <{iri}> sc:hasEvidence ?span }} UNION {{ <{iri}> a sc:EvidenceSpan BIND(<{iri}> AS ?span) }}
  OPTIONAL {{ ?span oa:hasSource ?article }}
  OPTIONAL {{ ?span oa:hasSelector ?quote . ?quote oa:exact ?exact }}
  OPTIONAL {{ ?span oa:hasSelector ?position . ?position oa:start ?start ; oa:end ?end }}
}}"""
    sources_q = f"""PREFIX sc: <{sc}>
PREFIX dcterms: <{DCTERMS}>
PREFIX schema: <{SCHEMA}>
SELECT ?source ?title ?url ?access ?issued ?publisher WHERE {{
  <{iri}> sc:citedSource ?source .
  OPTIONAL {{ ?source dcterms:title ?title }}
  OPTIONAL {{ ?source schema:url ?url }}
  OPTIONAL {{ ?source sc:accessDate ?access }}
  OPTIONAL {{ ?source dcterms:issued ?issued }}
  OPTIONAL {{ ?source sc:publisher ?publisher }}
}}"""
    notes_q = f"""PREFIX sc: <{sc}>
SELECT ?note ?label ?text WHERE {{
  <{iri}> sc:citedNote ?note .
  OPTIONAL {{ ?note sc:noteLabel ?label }}
  OPTIONAL {{ ?note sc:noteText ?text }}
}}"""
    first_values_q = [f"SELECT DISTINCT ?x ?g ?p ?o WHERE {{ GRAPH ?g {{ <{iri}> <{p}> ?o }} BIND(<{iri}> AS ?x) "
                      f"BIND(<{p}> AS ?p) }} LIMIT {VALUES_PER_PROPERTY}" for p in sorted(capped)]
    first_sources_q = [f"SELECT DISTINCT ?g ?s ?p WHERE {{ GRAPH ?g {{ ?s <{p}> <{iri}> }} BIND(<{p}> AS ?p) }} "
                       f"LIMIT {VALUES_PER_PROPERTY}" for p in sorted(capped_in)]
    outgoing, incoming, evidence, sources, notes, *firsts = await asyncio.gather(
        _select(queries, outgoing_q), _select(queries, incoming_q), _select(queries, evidence_q),
        _select(queries, sources_q), _select(queries, notes_q),
        *(_select(queries, q) for q in first_values_q + first_sources_q))
    for rows in firsts[:len(first_values_q)]:
        outgoing += rows
    for rows in firsts[len(first_values_q):]:
        incoming += rows

    truncated = len(incoming) > INCOMING_LIMIT
    incoming = incoming[:INCOMING_LIMIT]
    texts: dict[str, str] = {}
    articles = sorted({row["article"].value for row in evidence if "article" in row and _safe_iri(row["article"].value)})
    if articles:
        rows = await _select(queries, f"PREFIX schema: <{SCHEMA}> SELECT ?a ?text WHERE {{ VALUES ?a {{ "
                                      + " ".join(f"<{a}>" for a in articles) + " } ?a schema:text ?text }")
        texts = {row["a"].value: row["text"].value for row in rows}

    wanted = {iri}
    for row in outgoing:
        wanted.add(row["p"].value)
        wanted.add(row["x"].value)
        if row["o"].is_iri:
            wanted.add(row["o"].value)
    for row in incoming:
        wanted.update((row["p"].value, row["s"].value) if row["s"].is_iri else (row["p"].value,))
    for row in evidence:
        wanted.update(row[k].value for k in ("span", "article") if k in row)
    for row in sources:
        wanted.update(row[k].value for k in ("source", "publisher") if k in row and row[k].is_iri)
    labels, definitions = await _labels(queries, wanted)
    linker = Linker(request, settings, labels, definitions, current=iri)
    return render_resource(request, settings, linker, iri, outgoing, incoming, truncated, evidence, texts,
                           sources, notes, capped, capped_in)


def _capped_notes(request: Request, capped: dict[str, int], linker, query_for) -> list[str]:
    notes = []
    for prop, total in sorted(capped.items()):
        link = str(request.base_url) + "sparql?query=" + quote(query_for(prop), safe="")
        notes.append(f'<p class="muted capped">{linker.link(prop)}: the first {VALUES_PER_PROPERTY} of {total} values '
                     f'are shown; <a href="{_e(link)}">query all {total}</a>.</p>')
    return notes


def _group_triples(rows, subject_key: str, other_key: str):
    """{(subject, property, other): [graph, …]} in first-seen order, graphs deduplicated."""
    grouped: dict[tuple[Term, str, Term], list[str]] = {}
    for row in rows:
        key = (row[subject_key] if subject_key in row else None, row["p"].value, row[other_key])
        graphs = grouped.setdefault(key, [])
        if row["g"].value not in graphs:
            graphs.append(row["g"].value)
    return grouped


def render_resource(request, settings, linker: Linker, iri, outgoing, incoming, truncated, evidence, texts,
                    sources, notes, capped: dict[str, int], capped_in: dict[str, int]) -> str:
    sc = settings.base_iri + "ontology#"
    inferred = settings.base_iri + "graph/inferred"
    own = [row for row in outgoing if row["x"].value == iri]
    parts = [row for row in outgoing if row["x"].value != iri]
    props = _group_triples(own, "x", "o")
    values: dict[str, list[Term]] = defaultdict(list)
    for (_, prop, obj), _graphs in props.items():
        values[prop].append(obj)

    title = linker.labels.get(iri) or linker.short(iri)
    out: list[str] = []
    out.append(f'<h1>{_e(title)}</h1>')
    out.append(f'<p class="iri"><code>{_e(iri)}</code></p>')
    out.append(_actions(request, iri))

    # types, asserted first
    types = [(obj, graphs) for (_, prop, obj), graphs in props.items() if prop == RDF_TYPE and obj.is_iri]
    asserted = sorted({t.value for t, g in types if any(x != inferred for x in g)}, key=linker.label)
    derived = sorted({t.value for t, g in types} - set(asserted), key=linker.label)
    if types:
        line = ", ".join(linker.link(t) for t in asserted) or "—"
        if derived:
            line += f' <span class="muted">· also, by inference: {", ".join(linker.link(t) for t in derived)}</span>'
        out.append(f'<p class="types"><strong>Type{"s" if len(asserted) > 1 else ""}:</strong> {line}</p>')

    same = [t.value for t in values.get(OWL + "sameAs", []) if t.is_iri]
    wikidata = [s for s in same if s.startswith(WIKIDATA)]
    if wikidata:
        links = ", ".join(f'<a href="{_e(s)}" class="external" rel="external">Wikidata {_e(s[len(WIKIDATA):])}</a>'
                          for s in wikidata)
        out.append(f'<p class="sameas"><strong>Same as:</strong> {links}</p>')

    is_record = sc + "hasEvidence" in values
    if is_record:
        out.append(_status_box(values, sc, linker, sources, notes))
    if evidence:
        out.append(_evidence_section(iri, evidence, texts, linker, sources if is_record else [], notes if is_record else [],
                                     heading="Evidence" if is_record else "The quoted passage"))

    out.append('<h2 id="properties">Properties</h2>')
    out.append(_property_table(props, linker, inferred, outgoing=True))
    out.extend(_capped_notes(request, capped, linker, lambda prop: f"SELECT ?value WHERE {{ <{iri}> <{prop}> ?value }}"))

    by_part: dict[str, list[dict]] = defaultdict(list)
    for row in parts:
        by_part[row["x"].value].append(row)
    for part, rows in sorted(by_part.items()):
        fragment = part[len(iri) + 1:]
        out.append(f'<h3 id="{_e(fragment)}" class="part">#{_e(fragment)} '
                   f'<span class="muted">{_e(linker.labels.get(part, ""))}</span></h3>')
        out.append(f'<p class="iri"><code>{_e(part)}</code></p>')
        out.append(_property_table(_group_triples(rows, "x", "o"), linker, inferred, outgoing=True))

    out.append('<h2 id="incoming">Incoming links</h2>')
    if incoming:
        count = len({(r["s"], r["p"].value) for r in incoming})
        note = f" (the first {INCOMING_LIMIT})" if truncated else ""
        out.append(f'<p class="muted">{count} triple{"s" if count != 1 else ""} point{"" if count != 1 else "s"} '
                   f"at this resource{note}.</p>")
        out.append(_property_table(_group_triples(incoming, "s", "s"), linker, inferred, outgoing=False))
        out.extend(_capped_notes(request, capped_in, linker,
                                 lambda prop: f"SELECT ?subject WHERE {{ ?subject <{prop}> <{iri}> }}"))
    else:
        out.append('<p class="muted">No triple points at this resource.</p>')

    graphs: dict[str, int] = defaultdict(int)
    for (_, _, _), gs in props.items():
        for g in gs:
            graphs[g] += 1
    out.append('<h2 id="graphs">Named graphs</h2><ul class="graphs">')
    for g, n in sorted(graphs.items()):
        out.append(f'<li><code title="{_e(g)}">{_e(g)}</code>: {n} triple{"s" if n != 1 else ""} about it</li>')
    out.append("</ul><p class=\"muted\">Rows in grey come only from the inferred graph (what the reasoner added).</p>")
    return _page(request, settings, title, "\n".join(out))


def _status_box(values, sc, linker: Linker, sources, notes) -> str:
    status = values.get(sc + "epistemicStatus", [])
    certainty = values.get(sc + "certainty", [])
    cues = values.get(sc + "hedgeCue", [])
    rows = ['<dl class="status">']
    rows.append("<dt>Epistemic status</dt><dd>"
                + (", ".join(f'<strong class="badge">{linker.term(t)}</strong>' for t in status) or "not stated")
                + "</dd>")
    rows.append("<dt>Certainty</dt><dd>"
                + (", ".join(f'<strong class="badge">{linker.term(t)}</strong>' for t in certainty)
                   or '<span class="muted">not graded (no hedge)</span>') + "</dd>")
    if cues:
        rows.append("<dt>Hedge cue" + ("s" if len(cues) > 1 else "") + "</dt><dd>"
                    + ", ".join(f"“{_e(t.value)}”" for t in cues) + "</dd>")
    for key, name in ((sc + "extractedFrom", "Extracted from"), (sc + "speaker", "Speaker")):
        if values.get(key):
            rows.append(f"<dt>{name}</dt><dd>" + ", ".join(linker.term(t) for t in values[key]) + "</dd>")
    rows.append("</dl>")
    return "\n".join(rows)


def _passage(text: str | None, start: int | None, end: int | None, exact: str | None) -> tuple[str, str | None]:
    """The sentence(s) containing the span with the span in <mark>, and a warning if the text disagrees."""
    if text is None or start is None or end is None or not (0 <= start <= end <= len(text)):
        return (f"<mark>{_e(exact)}</mark>" if exact else '<span class="muted">(no quote)</span>'), None
    around = [s for s in sentences(text) if s.start < end and s.end > start]
    lo = min([start, *(s.start for s in around)])
    hi = max([end, *(s.end for s in around)])
    quoted = text[start:end]
    warning = None
    if exact is not None and quoted != exact:
        warning = "The article text at these offsets differs from the quote selector."
    return f"{_e(text[lo:start])}<mark>{_e(quoted)}</mark>{_e(text[end:hi])}", warning


def _int(term: Term | None) -> int | None:
    try:
        return int(term.value) if term is not None else None
    except ValueError:
        return None


def _evidence_section(iri, evidence, texts, linker: Linker, sources, notes, heading: str) -> str:
    out = [f'<h2 id="evidence">{_e(heading)}</h2>']
    seen = set()
    for row in sorted(evidence, key=lambda r: (_int(r.get("start")) or 0, r["span"].value)):
        key = row["span"].value
        if key in seen:
            continue
        seen.add(key)
        start, end = _int(row.get("start")), _int(row.get("end"))
        article = row.get("article")
        exact = row["exact"].value if "exact" in row else None
        passage, warning = _passage(texts.get(article.value) if article else None, start, end, exact)
        where = f"characters {start}–{end}" if start is not None else "no offsets"
        source = f" of {linker.link(article.value)}" if article else ""
        out.append('<figure class="evidence">')
        out.append(f'<blockquote class="passage">{passage}</blockquote>')
        caption = f'<span class="offsets">Offsets: {where}</span>{source} (code points; start inclusive, end exclusive)'
        if key != iri:
            caption += f' · {linker.link(key, "evidence span")}'

        out.append(f"<figcaption>{caption}</figcaption>")
        if warning:
            out.append(f'<p class="warning">{_e(warning)} Quote: “{_e(exact)}”</p>')
        out.append("</figure>")
    if sources or notes:
        out.append('<h3 id="sources">Cited source</h3><ul class="sources">')
        grouped: dict[str, dict[str, Term]] = {}
        for row in sources:
            entry = grouped.setdefault(row["source"].value, {})
            for k, v in row.items():
                entry.setdefault(k, v)
        for iri, row in grouped.items():
            title = row["title"].value if "title" in row else linker.label(iri)
            bits = [f'<strong class="source-title">{_e(title)}</strong>']
            if "publisher" in row:
                bits.append(linker.term(row["publisher"]))
            if "issued" in row:
                bits.append(f"published {_e(row['issued'].value)}")
            line = ", ".join(bits)
            if "url" in row:
                url = row["url"].value
                if re.match(r"(?i)https?://", url):
                    line += f'<br><a href="{_e(url)}" class="external url" rel="external">{_e(url)}</a>'
                else:
                    line += f"<br>{_e(url)}"
            if "access" in row:
                line += f' <span class="access">(accessed {_e(row["access"].value)})</span>'
            line += f' · {linker.link(iri, "source record")}'
            out.append(f"<li>{line}</li>")
        for row in notes:
            label = row["label"].value if "label" in row else linker.label(row["note"].value)
            text = f": {_e(row['text'].value)}" if "text" in row else ""
            out.append(f'<li class="note">Via {linker.link(row["note"].value, f"note [{label}]")}'
                       f'<span class="muted">{text}</span></li>')
        if not grouped:
            out.append('<li class="muted">The note cites no source record.</li>')
        out.append("</ul>")
    return "\n".join(out)


def _property_table(grouped, linker: Linker, inferred: str, outgoing: bool) -> str:
    """One row per property and set of graphs: (property, values, graphs) for outgoing triples,
    (subjects, property, graphs) for incoming ones. Rows only in the inferred graph come last, in grey."""
    if not grouped:
        return '<p class="muted">None.</p>'
    rows: dict[tuple[str, tuple[str, ...]], list[Term]] = defaultdict(list)
    for (subject, prop, other), graphs in grouped.items():
        rows[(prop, tuple(sorted(graphs)))].append(other if outgoing else subject)

    def shown(term: Term) -> str:
        return (linker.label(term.value) if term.is_iri else term.value).lower()

    def order(item):
        (prop, graphs), _ = item
        first = {RDF_TYPE: 0, RDFS + "label": 1}.get(prop, 2)
        return (all(g == inferred for g in graphs), first, linker.label(prop).lower(), graphs)

    head = ("<tr><th>Property</th><th>Value</th><th>Graph</th></tr>" if outgoing
            else "<tr><th>Subject</th><th>Property</th><th>Graph</th></tr>")
    out = [f'<table class="{"props" if outgoing else "incoming"}"><thead>{head}</thead><tbody>']
    for (prop, graphs), terms in sorted(rows.items(), key=order):
        css = ' class="inferred"' if all(g == inferred for g in graphs) else ""
        graph_cells = "<br>".join(f'<code class="graph" title="{_e(g)}">{_e(linker.graph_name(g))}</code>'
                                  for g in graphs)
        terms = sorted(terms, key=shown)
        if len(terms) == 1:
            value_cell = linker.term(terms[0])
        else:
            value_cell = '<ul class="values">' + "".join(f"<li>{linker.term(t)}</li>" for t in terms) + "</ul>"
        prop_cell = linker.link(prop, with_short=True)
        cells = (prop_cell, value_cell) if outgoing else (value_cell, prop_cell)
        out.append(f"<tr{css}><td>{cells[0]}</td><td>{cells[1]}</td><td>{graph_cells}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# /ontology and /ontology/{version}
# ---------------------------------------------------------------------------------------------

@router.api_route("/ontology", methods=["GET", "HEAD"], summary="The Statecraft ontology (HTML or RDF)")
async def ontology(request: Request) -> Response:
    return await _ontology(request, None)


@router.api_route("/ontology/{version}", methods=["GET", "HEAD"],
                  summary="A version of the Statecraft ontology (its owl:versionIRI)")
async def ontology_version(request: Request, version: str) -> Response:
    return await _ontology(request, version)


async def _ontology(request: Request, version: str | None) -> Response:
    settings = _settings(request)
    ontology_iri = settings.base_iri + "ontology"
    graph = settings.base_iri + "graph/ontology"
    fmt, queries, refusal = _format_and_queries(request)
    if refusal is not None:
        return refusal
    try:
        if version is not None:
            rows = await queries.select(f"SELECT ?v WHERE {{ GRAPH <{graph}> {{ <{ontology_iri}> <{OWL}versionIRI> ?v }} }}")
            versions = {row["v"]["value"] for row in rows}
            wanted = f"{ontology_iri}/{version}"
            if wanted not in versions:
                return _not_found(request, settings, wanted, fmt)
        if fmt is not HTML:
            return await _rdf(request, queries, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                              fmt)
        triples = await _select(queries, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        if not triples:
            return _not_found(request, settings, ontology_iri, fmt)
        return _html_response(request, render_ontology(request, settings, triples))
    except QueryFailed as failure:
        return _failure(request, fmt, failure, settings)


class _Graph:
    def __init__(self, rows):
        self.out: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        self.inv: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            s, p, o = row["s"], row["p"].value, row["o"]
            if o not in self.out[s][p]:
                self.out[s][p].append(o)
                self.inv[o][p].append(s)

    def objects(self, s: Term, p: str) -> list[Term]:
        return self.out.get(s, {}).get(p, [])

    def subjects(self, p: str, o: Term) -> list[Term]:
        return self.inv.get(o, {}).get(p, [])

    def items(self, head: Term) -> list[Term]:
        found, node, guard = [], head, 0
        while node.value != RDF_NIL and guard < 1000:
            found.extend(self.objects(node, RDF_FIRST))
            rest = self.objects(node, RDF_REST)
            if not rest:
                break
            node, guard = rest[0], guard + 1
        return found


def render_ontology(request: Request, settings, rows) -> str:
    g = _Graph(rows)
    ns = settings.base_iri + "ontology#"
    ontology_iri = Term("uri", settings.base_iri + "ontology")
    labels = {}
    definitions = {}
    for s, props in g.out.items():
        if s.is_iri:
            label = _pick_label([(p, o) for p in LABEL_PROPERTIES for o in props.get(p, [])])
            if label:
                labels[s.value] = label
            d = _pick_label([(RDFS + "label", o) for o in props.get(SKOS + "definition", [])])
            if d:
                definitions[s.value] = d
    linker = Linker(request, settings, labels, definitions)

    def local_name(term: Term) -> str:
        return term.value[len(ns):]

    def terms_of(kind: str) -> list[Term]:
        return sorted((s for s in g.subjects(RDF_TYPE, Term("uri", kind)) if s.is_iri and s.value.startswith(ns)),
                      key=local_name)

    def show(term: Term) -> str:
        if term.kind == "bnode":
            union = g.objects(term, OWL + "unionOf")
            if union:
                return " or ".join(show(t) for t in g.items(union[0]))
            inter = g.objects(term, OWL + "intersectionOf")
            if inter:
                return " and ".join(show(t) for t in g.items(inter[0]))
            if g.objects(term, RDF_FIRST):
                return " ∘ ".join(show(t) for t in g.items(term))
        if term.is_iri and term.value.startswith(ns):
            return linker.link(term.value, linker.short(term.value))
        return linker.term(term)

    def field(name: str, terms: list[Term]) -> str:
        if not terms:
            return ""
        return f"<dt>{_e(name)}</dt><dd>{', '.join(show(t) for t in terms)}</dd>"

    def text_field(name: str, terms: list[Term]) -> str:
        if not terms:
            return ""
        return f"<dt>{_e(name)}</dt><dd>" + "<br>".join(literal_html(t, linker) for t in terms) + "</dd>"

    def card(term: Term, kinds: list[str]) -> str:
        props = g.out[term]
        label = labels.get(term.value, local_name(term))
        parts = [f'<section class="term" id="{_e(local_name(term))}">',
                 f'<h3>{_e(label)} <code class="curie">{_e(linker.short(term.value))}</code> '
                 f'<a class="anchor" href="#{_e(local_name(term))}" title="link to this term">¶</a></h3>',
                 f'<p class="iri"><code>{_e(term.value)}</code></p>']
        for d in props.get(SKOS + "definition", []) + props.get(RDFS + "comment", []):
            parts.append(f'<p class="definition">{_e(d.value)}</p>')
        parts.append("<dl>")
        types = [t for t in props.get(RDF_TYPE, []) if t.value not in kinds]
        parts.append(field("Also a", types))
        parts.append(field("Sub-class of", props.get(RDFS + "subClassOf", [])))
        parts.append(field("Super-class of", sorted(g.subjects(RDFS + "subClassOf", term), key=lambda t: t.value)))
        parts.append(field("Equivalent to", props.get(OWL + "equivalentClass", [])))
        parts.append(field("Disjoint with", props.get(OWL + "disjointWith", []) + g.subjects(OWL + "disjointWith", term)))
        parts.append(field("Sub-property of", props.get(RDFS + "subPropertyOf", [])))
        parts.append(field("Super-property of", sorted(g.subjects(RDFS + "subPropertyOf", term), key=lambda t: t.value)))
        parts.append(field("Domain", props.get(RDFS + "domain", [])))
        parts.append(field("Range", props.get(RDFS + "range", [])))
        parts.append(field("Inverse of", props.get(OWL + "inverseOf", []) + g.subjects(OWL + "inverseOf", term)))
        parts.append(field("Property chain", props.get(OWL + "propertyChainAxiom", [])))
        if OWL + "Class" in kinds:
            parts.append(field("In the domain of", sorted(g.subjects(RDFS + "domain", term), key=lambda t: t.value)))
            parts.append(field("In the range of", sorted(g.subjects(RDFS + "range", term), key=lambda t: t.value)))
            members = sorted((s for s in g.subjects(RDF_TYPE, term) if s.is_iri), key=lambda t: t.value)
            parts.append(field("Members", members))
        parts.append(field("In scheme", props.get(SKOS + "inScheme", [])))
        parts.append(text_field("Alternative labels", props.get(SKOS + "altLabel", [])))
        parts.append(text_field("Scope note", props.get(SKOS + "scopeNote", [])))
        parts.append(text_field("Example", props.get(SKOS + "example", [])))
        parts.append(text_field("Editorial note", props.get(SKOS + "editorialNote", [])))
        parts.append("</dl></section>")
        return "\n".join(p for p in parts if p)

    sections = [
        ("classes", "Classes", [OWL + "Class"]),
        ("object-properties", "Object properties", [OWL + "ObjectProperty"]),
        ("datatype-properties", "Datatype properties", [OWL + "DatatypeProperty"]),
        ("annotation-properties", "Annotation properties", [OWL + "AnnotationProperty"]),
        ("individuals", "Named individuals (controlled vocabularies)", [OWL + "NamedIndividual"]),
    ]
    placed: set[Term] = set()
    listed = []
    for anchor, name, kinds in sections:
        terms = [t for t in terms_of(kinds[0]) if t not in placed]
        placed.update(terms)
        listed.append((anchor, name, kinds, terms))
    others = sorted((s for s in g.out if s.is_iri and s.value.startswith(ns) and s not in placed), key=local_name)
    if others:
        listed.append(("other-terms", "Other terms", [], others))

    meta = g.out.get(ontology_iri, {})
    title = _pick_label([(p, o) for p in LABEL_PROPERTIES for o in meta.get(p, [])]) or "Ontology"
    out = [f"<h1>{_e(title)}</h1>", f'<p class="iri"><code>{_e(ontology_iri.value)}</code></p>',
           _actions(request, None)]
    for d in meta.get(DCTERMS + "description", []):
        out.append(f'<p class="definition">{_e(d.value)}</p>')
    out.append('<dl class="meta">')
    known = {RDF_TYPE, DCTERMS + "title", DCTERMS + "description"}
    names = {OWL + "versionIRI": "Version IRI", OWL + "versionInfo": "Version", DCTERMS + "creator": "Creator",
             DCTERMS + "license": "Licence", DCTERMS + "created": "Created", DCTERMS + "modified": "Modified",
             DCTERMS + "bibliographicCitation": "Cite as", VANN + "preferredNamespacePrefix": "Preferred prefix",
             VANN + "preferredNamespaceUri": "Namespace", RDFS + "seeAlso": "See also"}
    for prop in list(names) + sorted(p for p in meta if p not in names and p not in known):
        if meta.get(prop):
            out.append(f"<dt>{_e(names.get(prop, linker.short(prop)))}</dt><dd>"
                       + ", ".join(linker.term(o) for o in meta[prop]) + "</dd>")
    out.append("</dl>")
    out.append('<nav class="toc"><h2>Contents</h2><ul>')
    for anchor, name, _, terms in listed:
        if terms:
            links = ", ".join(f'<a href="#{_e(local_name(t))}">{_e(local_name(t))}</a>' for t in terms)
            out.append(f'<li><a href="#{anchor}"><strong>{_e(name)}</strong></a> ({len(terms)}): {links}</li>')
    out.append("</ul></nav>")
    for anchor, name, kinds, terms in listed:
        if not terms:
            continue
        out.append(f'<h2 id="{anchor}">{_e(name)}</h2>')
        out.extend(card(t, kinds) for t in terms)
    external = sorted((s for s in g.out if s.is_iri and not s.value.startswith(ns) and s != ontology_iri
                       and g.objects(s, RDF_TYPE)), key=lambda t: linker.short(t.value))
    if external:
        out.append('<h2 id="external">External terms the ontology declares or aligns to</h2><p class="external-terms">'
                   + ", ".join(linker.link(t.value, linker.short(t.value)) for t in external) + "</p>")
    return _page(request, settings, title, "\n".join(out))


# ---------------------------------------------------------------------------------------------
# The page frame
# ---------------------------------------------------------------------------------------------

CSS = """
:root { --fg:#1d232b; --muted:#5b6672; --line:#d9dee4; --accent:#1f5fa8; --mark:#ffe58a; --bg:#fff; --soft:#f5f7f9; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; color:var(--fg); background:var(--bg); }
header.top { background:#17324d; color:#fff; padding:.6rem 1.2rem; display:flex; gap:1.2rem; align-items:baseline; flex-wrap:wrap; }
header.top a { color:#fff; } header.top .brand { font-weight:700; text-decoration:none; }
main { max-width:72rem; margin:0 auto; padding:1rem 1.2rem 3rem; }
a { color:var(--accent); } a.external::after { content:" ↗"; font-size:.8em; }
h1 { font-size:1.7rem; margin:.6rem 0 .2rem; line-height:1.25; } h2 { margin-top:2rem; border-bottom:1px solid var(--line); padding-bottom:.2rem; }
code { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.88em; }
.iri code { color:var(--muted); word-break:break-all; } .muted { color:var(--muted); }
.actions { display:flex; flex-wrap:wrap; gap:.4rem .9rem; font-size:.92rem; margin:.4rem 0 1rem; }
table { border-collapse:collapse; width:100%; font-size:.95rem; } th,td { text-align:left; vertical-align:top; padding:.35rem .5rem; border-bottom:1px solid var(--line); }
th { background:var(--soft); font-weight:600; } td:first-child { width:30%; } td:last-child { width:13rem; }
code.graph { display:inline-block; max-width:13rem; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; vertical-align:bottom; }
ul.values { margin:0; padding-left:1.1rem; }
tr.inferred td { color:var(--muted); } tr.inferred a { color:#5c7fa8; }
.curie { color:var(--muted); font-size:.8em; } .dt,.lang { color:#7a5a00; font-size:.8em; font-family:ui-monospace,Menlo,Consolas,monospace; }
.lit.long { white-space:pre-wrap; display:block; }
dl.status, dl.meta { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:.7rem 1rem; }
dl.status dt, dl.meta dt { font-weight:600; } dl.status dd, dl.meta dd { margin:0; }
.badge { background:#e7eefb; border-radius:4px; padding:.05rem .4rem; }
figure.evidence { margin:1rem 0; border-left:4px solid #e0b400; background:#fffbea; padding:.6rem 1rem; border-radius:0 6px 6px 0; }
blockquote.passage { margin:0 0 .4rem; white-space:pre-wrap; font-family:Georgia,"Times New Roman",serif; font-size:1.05rem; }
mark { background:var(--mark); padding:0 .1em; } figcaption { font-size:.88rem; color:var(--muted); }
.warning { color:#9b1c1c; } ul.sources li { margin-bottom:.5rem; } a.url { word-break:break-all; }
section.term { border:1px solid var(--line); border-radius:6px; padding:.2rem 1rem .6rem; margin:1rem 0; }
section.term:target { border-color:var(--accent); box-shadow:0 0 0 3px #d4e3f7; }
section.term dl { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:.4rem 0; } section.term dt { font-weight:600; color:var(--muted); } section.term dd { margin:0; }
a.anchor { text-decoration:none; color:var(--line); } h3:hover a.anchor { color:var(--accent); }
nav.toc li { margin-bottom:.4rem; } .definition { margin:.3rem 0; }
h3.part:target, h2:target { background:#fff5c2; }
footer { color:var(--muted); font-size:.85rem; border-top:1px solid var(--line); margin-top:3rem; padding-top:.6rem; }
"""


def _format_url(request: Request, fmt: Format) -> str:
    return str(request.url.replace(query=f"format={fmt.key}"))


def _actions(request: Request, iri: str | None) -> str:
    """"Query this" (a DESCRIBE on the SPARQL endpoint) and the RDF representations of the page."""
    base = str(request.base_url)
    links = []
    if iri:
        links.append(f'<a href="{_e(base + "sparql?query=" + quote(f"DESCRIBE <{iri}>", safe=""))}">query this</a>')
    formats = " ".join(f'<a href="{_e(_format_url(request, f))}" type="{f.media_type}">{f.name}</a>'
                       for f in FORMATS[1:])
    links.append(f"<span>Download: {formats}</span>")
    return f'<p class="actions">{" ".join(links)}</p>'


def _page(request: Request, settings, title: str, body: str, alternates: bool = True) -> str:
    base = str(request.base_url)
    head_links = ""
    if alternates:
        head_links = "\n".join(f'<link rel="alternate" type="{f.media_type}" href="{_e(_format_url(request, f))}">'
                               for f in FORMATS[1:])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} — Statecraft</title>
{head_links}
<style>{CSS}</style>
</head>
<body>
<header class="top"><a class="brand" href="{_e(base)}">Statecraft</a><a href="{_e(base)}">Query the graph</a><a href="{_e(base + "ontology")}">Ontology</a></header>
<main>
{body}
<footer>Statecraft knowledge graph · identifiers under <code>{_e(settings.base_iri)}</code> are served here at <code>{_e(base)}</code>.</footer>
</main>
</body>
</html>
"""
