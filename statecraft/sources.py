"""Stage 1 of the flow: find the curated sources and parse them, with errors that name file, line and column."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph
from rdflib.plugins.parsers.notation3 import BadSyntax

RDF_SUFFIXES = {".ttl": "turtle", ".trig": "trig", ".nt": "nt", ".nq": "nquads"}


class SourceError(Exception):
    """A source file is missing or cannot be parsed; the message names the file and the place."""


@dataclass(frozen=True)
class ArticleSource:
    slug: str
    folder: Path
    text: str
    text_sha256: str
    rdf_files: tuple[Path, ...]


@dataclass(frozen=True)
class Sources:
    root: Path
    ontology_file: Path
    shapes_files: tuple[Path, ...]
    reference_files: tuple[Path, ...]
    articles: tuple[ArticleSource, ...]
    rules_dir: Path
    curated_journal: Path | None = None   # data/curated/journal.trig: writes curators committed, replayed

    def all_rdf_files(self) -> list[Path]:
        files = [self.ontology_file, *self.reference_files]
        for article in self.articles:
            files.extend(article.rdf_files)
        return files


def rdf_files_in(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in RDF_SUFFIXES))


def discover(root: Path) -> Sources:
    """The layout of the repository: ontology/, shapes/, data/reference/, data/articles/<slug>/."""
    root = root.resolve()
    ontology_file = root / "ontology" / "statecraft.ttl"
    if not ontology_file.is_file():
        raise SourceError(f"{ontology_file}: the ontology is missing")
    articles = []
    articles_dir = root / "data" / "articles"
    for folder in sorted(p for p in articles_dir.iterdir() if p.is_dir()) if articles_dir.is_dir() else []:
        text_file = folder / "article.txt"
        if not text_file.is_file():
            raise SourceError(f"{folder}: an article folder needs its verbatim text in article.txt")
        raw = text_file.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(f"{text_file}: not UTF-8 at byte {error.start}") from None
        articles.append(ArticleSource(folder.name, folder, text, hashlib.sha256(raw).hexdigest(), rdf_files_in(folder)))
    reference_dir = root / "data" / "reference"
    return Sources(
        root=root,
        ontology_file=ontology_file,
        shapes_files=rdf_files_in(root / "shapes") if (root / "shapes").is_dir() else (),
        reference_files=rdf_files_in(reference_dir) if reference_dir.is_dir() else (),
        articles=tuple(articles),
        rules_dir=root / "ontology" / "rules",
        curated_journal=curated if (curated := root / "data" / "curated" / "journal.trig").is_file() else None,
    )


def _syntax_error_location(error: BadSyntax) -> tuple[int, int]:
    text, index = error._str, error._i
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def parse_file(path: Path, into: Graph | None = None) -> Graph:
    """Parse one RDF file into a graph (a Dataset for TriG/N-Quads); raise SourceError with line and column."""
    fmt = RDF_SUFFIXES.get(path.suffix)
    if fmt is None:
        raise SourceError(f"{path}: unknown RDF file type (expected one of {', '.join(sorted(RDF_SUFFIXES))})")
    graph = into if into is not None else (Dataset() if fmt in ("trig", "nquads") else Graph())
    try:
        graph.parse(path, format=fmt)
    except BadSyntax as error:
        line, column = _syntax_error_location(error)
        raise SourceError(f"{path}:{line}:{column}: syntax error: {error._why}") from None
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except Exception as error:  # rdflib raises many kinds; the message names the file in every case
        raise SourceError(f"{path}: cannot parse as {fmt}: {error}") from None
    return graph


def merge(graphs) -> Graph:
    """One plain graph holding the triples of all the given graphs."""
    merged = Graph()
    for graph in graphs:
        merged += graph
    return merged


def parse_files(paths) -> Graph:
    """Parse several files into one plain graph (named graphs of TriG files are merged)."""
    merged = Graph()
    for path in paths:
        parsed = parse_file(path)
        triples = parsed.triples((None, None, None)) if not isinstance(parsed, Dataset) else (
            (s, p, o) for s, p, o, _ in parsed.quads((None, None, None, None)))
        for triple in triples:
            merged.add(triple)
        for prefix, namespace in parsed.namespaces():
            merged.bind(prefix, namespace, override=False)
    return merged
