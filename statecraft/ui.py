"""The query UI at `/`: YASGUI (vendored under ui/static/vendor/, nothing fetched from another host),
the endpoint `/sparql`, the project's prefixes, and every competency question as a one-click example.

The lead wires it with `app.include_router(router)` and `mount_static(app)`; `/sparql` asked for
text/html answers with `ui_page(request)`.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from .namespaces import BASE, PREFIXES

STATIC_DIR = Path(__file__).resolve().parent / "ui" / "static"
QUERIES_DIR = Path(__file__).resolve().parent.parent / "docs" / "queries"
STATIC_PATH = "/static"

# Everything the page loads comes from this origin; the browser refuses anything else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)

HEADER_LINKS = (
    ("Ontology", "/ontology", "The Statecraft ontology"),
    ("VoID", "/.well-known/void", "VoID/DCAT description of the dataset"),
    ("TriG", "/dist/statecraft.trig", "Dump: every named graph, as TriG"),
    ("N-Quads", "/dist/statecraft.nq", "Dump: every named graph, as N-Quads"),
    ("Turtle", "/dist/statecraft.ttl", "Dump: the union of all graphs, as Turtle"),
    ("JSON-LD", "/dist/statecraft.jsonld", "Dump: the named graphs, as JSON-LD"),
    ("Docs", "/docs/", "Data model and query cookbook"),
)

DEFAULT_QUERY = """\
# What the graph holds: every class of the Statecraft ontology, with how many things belong to it.
# The competency questions on the left are ready-made queries: click one to run it.
PREFIX sc:   <https://w3id.org/statecraft/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?class ?label (COUNT(DISTINCT ?thing) AS ?things) WHERE {
  ?thing a ?class .
  ?class rdfs:label ?label .
  FILTER(STRSTARTS(STR(?class), STR(sc:)) && LANGMATCHES(LANG(?label), "en"))
}
GROUP BY ?class ?label
ORDER BY DESC(?things) ?label
"""

router = APIRouter()

_HEADING = re.compile(r"^#\s*Competency question\s+(\d+)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class Example:
    number: int
    name: str          # the file's stem, e.g. cq01-states-and-wikidata
    question: str
    description: str   # the comment lines after the question, joined
    query: str         # the whole file, comments included


def parse_example(path: Path) -> Example:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    match = _HEADING.match(lines[0]) if lines else None
    if not match:
        raise ValueError(f"{path}: the first line must be '# Competency question N: <question>'")
    description = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        description.append(line.lstrip("#").strip())
    return Example(int(match.group(1)), path.stem, match.group(2), " ".join(description).strip(), text)


@cache
def load_examples(folder: Path = QUERIES_DIR) -> tuple[Example, ...]:
    """The competency queries, in question order (read once: at start-up, by mount_static)."""
    if not folder.is_dir():
        logging.getLogger(__name__).warning("no competency queries at %s: the UI shows no examples", folder)
        return ()
    return tuple(sorted((parse_example(path) for path in folder.glob("*.rq")), key=lambda e: e.number))


@cache
def _asset_version(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def _asset(root: str, relative: str) -> str:
    return f"{root}{STATIC_PATH}/{relative}?v={_asset_version(relative)}"


def _json_for_script(value) -> str:
    """JSON safe inside a <script> element: no '</script>', no HTML comment openers."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")


def page_config(request: Request) -> dict:
    root = request.scope.get("root_path", "").rstrip("/")
    settings = getattr(request.app.state, "settings", None)
    return {
        "endpoint": f"{root}/sparql",
        "root": root,
        "baseIri": getattr(settings, "base_iri", None) or BASE,
        "prefixes": {prefix: str(namespace) for prefix, namespace in PREFIXES.items()},
        "defaultQuery": DEFAULT_QUERY,
        "examples": [asdict(example) for example in load_examples()],
    }


def render_page(request: Request) -> str:
    config = page_config(request)
    root = config["root"]
    esc = html.escape
    links = "\n".join(
        f'      <a href="{esc(root + href)}" title="{esc(title)}">{esc(label)}</a>' for label, href, title in HEADER_LINKS)
    examples = "\n".join(
        f'      <li><button type="button" class="example" data-example="{esc(e.name)}" '
        f'title="{esc(e.name)}.rq: {esc(e.description or e.question)}">'
        f'<span class="cq-number">{e.number}</span><span class="cq-text"><span class="cq-question">'
        f'{esc(e.question)}</span><span class="cq-description">{esc(e.description)}</span></span></button></li>'
        for e in load_examples())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Statecraft — SPARQL query</title>
  <link rel="icon" href="{_asset(root, 'favicon.svg')}" type="image/svg+xml">
  <link rel="stylesheet" href="{_asset(root, 'vendor/yasgui/yasgui.min.css')}">
  <link rel="stylesheet" href="{_asset(root, 'app.css')}">
</head>
<body>
  <header class="site-header">
    <a class="brand" href="{esc(root or '/')}">Statecraft</a>
    <span class="tagline">a knowledge graph of international security relations, with sentence-level evidence</span>
    <nav aria-label="Dataset">
{links}
    </nav>
  </header>
  <div class="layout">
    <aside class="examples" aria-labelledby="examples-title">
      <h2 id="examples-title">Competency questions</h2>
      <p class="hint">Click a question to load its query and run it.</p>
      <ol>
{examples}
      </ol>
    </aside>
    <main class="query">
      <div class="toolbar" role="toolbar" aria-label="Download the results">
        <span>Download the current query's results from <code>{esc(config['endpoint'])}</code>:</span>
        <button type="button" class="download" data-kind="primary">CSV</button>
        <button type="button" class="download" data-kind="secondary">JSON</button>
        <span class="status" role="status" aria-live="polite"></span>
      </div>
      <div id="yasgui"></div>
      <noscript>The query editor needs JavaScript. The endpoint itself takes GET or POST requests at
        <code>{esc(config['endpoint'])}</code> (SPARQL 1.1 Protocol).</noscript>
    </main>
  </div>
  <script id="statecraft-config" type="application/json">{_json_for_script(config)}</script>
  <script src="{_asset(root, 'vendor/yasgui/yasgui.min.js')}"></script>
  <script src="{_asset(root, 'app.js')}"></script>
</body>
</html>
"""


def ui_page(request: Request) -> HTMLResponse:
    """The query UI as an HTML response (GET / and GET /sparql with Accept: text/html)."""
    return HTMLResponse(render_page(request), headers={
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Vary": "Accept",
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    })


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    return ui_page(request)


def mount_static(app: FastAPI) -> None:
    """Serve statecraft/ui/static/ (app.js, app.css, the vendored YASGUI) under /static/, and read the
    competency queries now, so that a malformed query file stops the start rather than a page view."""
    load_examples()
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
