"""HTML documentation of the ontology, made with pyLODE 3.3.4 (its OntPub profile).

pyLODE 3.3.4 caches its background ontologies (RDF, OWL, PROV, schema.org…) as pickles written
into its own package directory on first use; that fails on a read-only install and leaves files in
the virtual environment. ``generate_ontology_docs`` hands pyLODE the same graphs without the pickles
(loaded once per process and kept in memory).
"""

from __future__ import annotations

import contextlib
import functools
from itertools import chain
from pathlib import Path

__all__ = ["DocsError", "generate_ontology_docs"]


class DocsError(Exception):
    """pyLODE is missing or could not document the ontology."""


def _import_pylode():
    """Import pyLODE without its side effect on logging: pylode.profiles.supermodel.loader calls
    logging.basicConfig(level=DEBUG) at import time, which would make every library's debug
    messages appear in the build's output. The root logger is put back as it was."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from pylode.profiles.ontpub import OntPub
        from pylode.utils import PylodeError
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DocsError(
            "pyLODE is not installed: pip install 'pylode==3.3.4' (3.4.x needs Python 3.12)"
        ) from exc
    finally:
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)
    return OntPub, PylodeError


@functools.lru_cache(maxsize=1)
def _background():
    """pyLODE's background ontologies and their titles, built as pyLODE builds them, unpickled."""
    from pylode import utils
    from rdflib import Graph
    from rdflib.namespace import DC, DCTERMS, OWL, RDF, RDFS, SDO, SKOS

    g = Graph(bind_namespaces="core")
    for f in sorted(Path(utils.__file__).parent.joinpath("rdf").glob("*.ttl")):
        g.parse(f)
    for s, o in list(chain(g.subject_objects(DC.title), g.subject_objects(RDFS.label),
                           g.subject_objects(SKOS.prefLabel), g.subject_objects(SDO.name))):
        g.add((s, DCTERMS.title, o))
    for s, o in list(chain(g.subject_objects(DC.description), g.subject_objects(RDFS.comment),
                           g.subject_objects(SKOS.definition),
                           g.subject_objects(SDO.description))):
        g.add((s, DCTERMS.description, o))
    titles = {}
    for s in g.subjects(RDF.type, OWL.Ontology):
        for o in g.objects(s, DCTERMS.title):
            titles[str(s)] = str(o)
    titles = dict(sorted(titles.items(), key=lambda item: item[1]))
    return g, titles


@contextlib.contextmanager
def _no_pickles():
    from pylode import utils
    from pylode.profiles import ontpub

    graph, titles = _background()
    saved = (ontpub.load_background_onts, ontpub.load_background_onts_titles,
             utils.load_background_onts, utils.load_background_onts_titles)
    ontpub.load_background_onts = utils.load_background_onts = lambda: graph
    ontpub.load_background_onts_titles = utils.load_background_onts_titles = lambda _g: titles
    try:
        yield
    finally:
        (ontpub.load_background_onts, ontpub.load_background_onts_titles,
         utils.load_background_onts, utils.load_background_onts_titles) = saved


def generate_ontology_docs(ontology_path: Path, out_dir: Path) -> Path:
    """Write ``out_dir/index.html``: pyLODE's documentation of the ontology in ``ontology_path``
    (Turtle or any RDF format rdflib recognises by extension), CSS inlined. Returns the path."""
    ontology_path = Path(ontology_path)
    if not ontology_path.is_file():
        raise DocsError(f"ontology not found: {ontology_path}")
    OntPub, PylodeError = _import_pylode()
    from rdflib import Graph

    graph = Graph(bind_namespaces="core").parse(ontology_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    try:
        with _no_pickles():
            html = OntPub(ontology=graph, sort_subjects=True).make_html(include_css=True)
    except PylodeError as exc:
        raise DocsError(f"pyLODE could not document {ontology_path.name}: {exc}") from exc
    target.write_text(html, encoding="utf-8")
    return target
