"""Stage 2 of the flow: anchor each curated quote in its article's text.

Curators write only the quote, as `sc:hasEvidence [ oa:exact "…" ]` (with `oa:prefix` / `oa:suffix`
where the quote occurs more than once). This stage finds the quote in the verbatim text and replaces
the blank node with a W3C Web Annotation span: a TextQuoteSelector (exact, prefix, suffix) and a
TextPositionSelector (start, end: Unicode code points, end exclusive), on a stable IRI.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from .namespaces import OA, SC, SCHEMA, article_iri, evidence_iri

CONTEXT_CHARS = 32
CURLY_TO_STRAIGHT = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


@dataclass(frozen=True)
class Span:
    record: URIRef
    start: int
    end: int
    iri: URIRef


@dataclass(frozen=True)
class AnchorProblem:
    file: Path
    record: str
    quote: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: {self.message}"


class AnchorError(Exception):
    def __init__(self, problems: list[AnchorProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _occurrences(text: str, quote: str) -> list[int]:
    found, start = [], text.find(quote)
    while start != -1:
        found.append(start)
        start = text.find(quote, start + 1)
    return found


def nearest_passage(text: str, quote: str) -> str:
    """The passage of the text that best matches the quote, for an error message."""
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    block = matcher.find_longest_match(0, len(text), 0, len(quote))
    begin = max(0, block.a - block.b)
    passage = text[begin:begin + len(quote) + 10].replace("\n", " ")
    return passage.strip()


def _not_found_message(text: str, quote: str) -> str:
    normalised_text = text.translate(CURLY_TO_STRAIGHT)
    normalised_quote = quote.translate(CURLY_TO_STRAIGHT)
    position = normalised_text.find(normalised_quote)
    if position != -1:
        in_text = text[position:position + len(quote)]
        differing = sorted({a for a, b in zip(quote, in_text) if a != b})
        return (f"the quote does not occur verbatim: it differs from the article only in its quotation marks or dashes "
                f"({', '.join(repr(c) for c in differing)} in the quote; the article uses curly quotes ’ “ ” and "
                f"dashes exactly as printed). The article has: “{in_text}”")
    collapsed = " ".join(quote.split())
    if collapsed != quote and collapsed in text:
        return "the quote does not occur verbatim: its whitespace differs from the article (line breaks or double spaces)"
    return f"the quote does not occur in the article text. Nearest passage: “{nearest_passage(text, quote)}”"


def locate(text: str, quote: str, prefix: str | None = None, suffix: str | None = None) -> tuple[int, int]:
    """The (start, end) of the one occurrence of quote that fits the given prefix and suffix; ValueError otherwise."""
    if not quote:
        raise ValueError("the quote (oa:exact) is empty")
    starts = _occurrences(text, quote)
    if not starts:
        raise ValueError(_not_found_message(text, quote))
    fitting = [s for s in starts
               if (prefix is None or text[max(0, s - len(prefix)):s] == prefix)
               and (suffix is None or text[s + len(quote):s + len(quote) + len(suffix)] == suffix)]
    if not fitting:
        raise ValueError(f"the quote occurs {len(starts)} time(s), but never with the given oa:prefix/oa:suffix "
                         f"(prefix {prefix!r}, suffix {suffix!r})")
    if len(fitting) > 1:
        contexts = "; ".join(f"at {s}: “…{text[max(0, s - 20):s]}[{quote}]{text[s + len(quote):s + len(quote) + 20]}…”".replace("\n", " ")
                             for s in fitting)
        raise ValueError(f"the quote occurs {len(fitting)} times; add oa:prefix or oa:suffix to say which ({contexts})")
    return fitting[0], fitting[0] + len(quote)


def _short(node) -> str:
    return str(node) if not isinstance(node, BNode) else f"a blank node ({node.n3()})"


def anchor(graph: Graph, slug: str, text: str, source_file: Path) -> tuple[Graph, list[Span]]:
    """Return a copy of graph with every curated quote replaced by an anchored evidence span."""
    article = article_iri(slug)
    anchored = Graph()
    for prefix, namespace in graph.namespaces():
        anchored.bind(prefix, namespace)
    curated = {(record, node) for record, node in graph.subject_objects(SC.hasEvidence) if isinstance(node, BNode)}
    curated_nodes = {node for _, node in curated}
    for triple in graph:
        if triple[0] in curated_nodes or (triple[1] == SC.hasEvidence and triple[2] in curated_nodes):
            continue
        anchored.add(triple)

    problems, spans = [], []
    for record, node in sorted(curated, key=lambda pair: (str(pair[0]), str(graph.value(pair[1], OA.exact)))):
        exacts = list(graph.objects(node, OA.exact))
        if len(exacts) != 1:
            problems.append(AnchorProblem(source_file, _short(record), "", "an evidence node needs exactly one oa:exact quote"))
            continue
        quote = str(exacts[0])
        prefix, suffix = graph.value(node, OA.prefix), graph.value(node, OA.suffix)
        try:
            start, end = locate(text, quote, None if prefix is None else str(prefix), None if suffix is None else str(suffix))
        except ValueError as error:
            problems.append(AnchorProblem(source_file, _short(record), quote, f"quote “{quote}”: {error}"))
            continue
        span = Span(record, start, end, evidence_iri(slug, start, end))
        spans.append(span)
        add_span(anchored, span, article, slug, text)
    if problems:
        raise AnchorError(problems)
    for span in spans:
        anchored.add((span.record, SC.extractedFrom, article))
    return anchored, spans


def add_span(graph: Graph, span: Span, article: URIRef, slug: str, text: str) -> None:
    quote_selector = URIRef(f"{span.iri}#quote")
    position_selector = URIRef(f"{span.iri}#position")
    graph.add((span.record, SC.hasEvidence, span.iri))
    graph.add((span.iri, RDF.type, SC.EvidenceSpan))
    graph.add((span.iri, RDFS.label, Literal(f"Characters {span.start}–{span.end} of article {slug}", lang="en")))
    graph.add((span.iri, OA.hasSource, article))
    graph.add((span.iri, OA.hasSelector, quote_selector))
    graph.add((span.iri, OA.hasSelector, position_selector))
    graph.add((quote_selector, RDF.type, OA.TextQuoteSelector))
    graph.add((quote_selector, OA.exact, Literal(text[span.start:span.end])))
    graph.add((quote_selector, OA.prefix, Literal(text[max(0, span.start - CONTEXT_CHARS):span.start])))
    graph.add((quote_selector, OA.suffix, Literal(text[span.end:span.end + CONTEXT_CHARS])))
    graph.add((position_selector, RDF.type, OA.TextPositionSelector))
    graph.add((position_selector, OA.start, Literal(span.start, datatype=XSD.nonNegativeInteger)))
    graph.add((position_selector, OA.end, Literal(span.end, datatype=XSD.nonNegativeInteger)))


def article_text_triples(slug: str, text: str, text_sha256: str) -> list[tuple]:
    article = article_iri(slug)
    return [
        (article, SCHEMA.text, Literal(text)),
        (article, SC.textSha256, Literal(text_sha256)),
    ]
