"""Which sentences of an article does no evidence span cover? Each should carry no claim."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, Literal

from .evidence import Span
from .namespaces import SC

NOTE_LINE = re.compile(r"\[(?P<label>[0-9]+|[ivxlc]+)\]\s")
SENTENCE = re.compile(r".+?(?:[.!?][”’]?(?:\[[0-9ivxlc]+\])?(?=\s|$)|$)")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    note_label: str | None = None


@dataclass(frozen=True)
class Uncovered:
    sentence: Sentence
    reason: str | None  # why it carries no claim; None when it seems to carry one

    @property
    def claim_free(self) -> bool:
        return self.reason is not None


def sentences(text: str) -> list[Sentence]:
    """Split the text into sentences; a reference-note line ("[1] …", "[ii] Ibid.") is one unit."""
    found, offset = [], 0
    for line in text.split("\n"):
        note = NOTE_LINE.match(line)
        if note:
            found.append(Sentence(offset, offset + len(line), line, note.group("label")))
        else:
            for match in SENTENCE.finditer(line):
                stripped = match.group(0).strip()
                if stripped:
                    start = offset + match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
                    found.append(Sentence(start, start + len(stripped), stripped))
        offset += len(line) + 1
    return found


def _note_reason(label: str, article_graph: Graph) -> str | None:
    note = next(iter(article_graph.subjects(SC.noteLabel, Literal(label))), None)
    if note is None:
        return None
    source = article_graph.value(note, SC.citesSource)
    ibid = article_graph.value(note, SC.ibidOf)
    if source is not None:
        return f"reference note [{label}]: recorded as the note {note} citing the source {source}"
    if ibid is not None:
        return f"reference note [{label}] (Ibid.): recorded as the note {note}, which repeats {ibid}"
    return f"reference note [{label}]: recorded as the note {note}"


def uncovered(text: str, spans: list[Span], article_graph: Graph) -> list[Uncovered]:
    result = []
    for sentence in sentences(text):
        if any(span.start < sentence.end and span.end > sentence.start for span in spans):
            continue
        reason = _note_reason(sentence.note_label, article_graph) if sentence.note_label else None
        result.append(Uncovered(sentence, reason))
    return result
