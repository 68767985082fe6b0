"""The endpoint: a FastAPI app serving /sparql, the Graph Store read side, VoID, dumps, /health, /metrics,
the linked-data pages (statecraft.pages) and the query UI (statecraft.ui).

Every query goes through an engine: the worker pool over the embedded store (statecraft.workers),
which enforces the time limit by stopping the process that runs an over-long query, or a remote
SPARQL 1.1 engine (statecraft.remote, `--engine URL`) under the same limits.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from .metrics import Metrics
from .negotiation import negotiate
from .protocol import parse_request, refuse_outbound
from .settings import Settings
from .store import Prepared, prepare
from .workers import GRAPH_FORMATS, QueryAnswer, QueryFailed, QueryJob, QueryTimedOut, WorkerPool, WorkersBusy

RDF_OFFERED = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
FORMAT_ALIASES = {
    "json": "application/sparql-results+json", "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml", "srx": "application/sparql-results+xml",
    "csv": "text/csv", "tsv": "text/tab-separated-values",
    "ttl": "text/turtle", "turtle": "text/turtle", "nt": "application/n-triples", "ntriples": "application/n-triples",
    "jsonld": "application/ld+json", "json-ld": "application/ld+json", "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml", "trig": "application/trig", "nq": "application/n-quads",
    "nquads": "application/n-quads", "html": "text/html",
}
DUMP_FILES = ("statecraft.trig", "statecraft.nq", "statecraft.ttl", "statecraft.jsonld", "context.jsonld",
              "void.ttl", "build-report.json")


def format_parameter(value: str | None) -> str | None:
    """The `format` parameter: an alias (json, ttl …) or a media type; it overrides Accept."""
    if not value:
        return None
    return FORMAT_ALIASES.get(value.strip().lower(), value.strip().lower())


def choose_media_type(request: Request, offered: list[str]) -> str | None:
    """The `format` parameter when it names an offered type, else the Accept header; None means 406."""
    chosen = format_parameter(request.query_params.get("format"))
    return chosen if chosen in offered else negotiate(request.headers.get("accept"), offered)


def error_response(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status, media_type="text/plain; charset=utf-8")


class QueryService:
    """What routes use to run queries: through the engine, with the SERVICE check and metrics."""

    def __init__(self, engine, settings: Settings, metrics: Metrics):
        self.engine, self.settings, self.metrics = engine, settings, metrics  # a WorkerPool or a RemoteEngine

    async def run(self, job: QueryJob) -> QueryAnswer:
        refuse_outbound(job.query, self.settings.allow_service_hosts)
        started = time.perf_counter()
        self.metrics.in_flight += 1
        outcome = "error"
        try:
            answer = await self.engine.run(job)
            outcome = "ok"
            return answer
        except QueryFailed as failure:
            outcome = ("timeout" if isinstance(failure, QueryTimedOut) else "busy" if isinstance(failure, WorkersBusy)
                       else "client_error" if failure.status < 500 else "error")
            raise
        except asyncio.CancelledError:
            outcome = "abandoned"
            raise
        finally:
            self.metrics.in_flight -= 1
            self.metrics.observe(outcome, time.perf_counter() - started)

    def job(self, query: str, **options) -> QueryJob:
        return QueryJob(query=query, max_result_bytes=self.settings.max_result_bytes, **options)

    async def select(self, query: str) -> list[dict[str, dict]]:
        answer = await self.run(self.job(query, result_format="application/sparql-results+json"))
        return json.loads(answer.body)["results"]["bindings"]

    async def ask(self, query: str) -> bool:
        answer = await self.run(self.job(query, result_format="application/sparql-results+json"))
        return bool(json.loads(answer.body)["boolean"])

    async def construct(self, query: str, media_type: str) -> bytes:
        return (await self.run(self.job(query, result_format=media_type))).body


class RequestSizeLimit:
    """413 for a declared body over the limit, before any route reads it (plain ASGI: Starlette's
    BaseHTTPMiddleware costs more per request than the rest of a small query's path)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length":
                    if value.isdigit() and int(value) > self.limit:
                        response = error_response(413, f"the request body ({value.decode()} bytes) exceeds "
                                                       f"the limit of {self.limit} bytes")
                        return await response(scope, receive, send)
                    break
        await self.app(scope, receive, send)


async def start_engine(settings: Settings, prepared: Prepared | None = None):
    """The embedded store behind worker processes, or a remote engine (`--engine URL`); and the
    triples per graph when known without asking the engine. `prepared` is what the CLI already built
    and loaded, so that it is not checked again."""
    if settings.engine:
        from .remote import RemoteEngine
        engine = RemoteEngine(settings.engine, settings.engine_connections, settings.query_timeout,
                              settings.queue_timeout)
        await engine.start()
        return engine, None
    prepared = prepared or await run_in_threadpool(prepare, settings)
    pool = WorkerPool(prepared.source, settings.workers, settings.query_timeout, settings.queue_timeout)
    await pool.start()
    return pool, prepared.counts


def create_app(settings: Settings | None = None, prepared: Prepared | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine, counts = await start_engine(settings, prepared)
        app.state.engine = engine
        app.state.queries = QueryService(engine, settings, app.state.metrics)
        app.state.counts = counts or await graph_counts(app.state.queries)
        try:
            yield
        finally:
            await engine.close()

    # No Swagger page: FastAPI's loads its scripts from a CDN, and this server works offline.
    app = FastAPI(title="Statecraft SPARQL endpoint", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.metrics = Metrics()
    if settings.cors:
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["*"], expose_headers=["Content-Type", "Link", "Vary"])

    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(SparqlFastPath, application=app, settings=settings)

    register_sparql(app, settings)
    register_data(app, settings)
    from . import pages, ui
    app.include_router(pages.router)
    app.include_router(ui.router)
    ui.mount_static(app)
    register_docs(app, settings)
    return app


DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"


def register_docs(app: FastAPI, settings: Settings) -> None:
    """The project's Markdown docs (data model, cookbook, decisions …), served as they are."""
    from fastapi.responses import HTMLResponse
    import html

    @app.get("/docs/")
    async def docs_index() -> HTMLResponse:
        items = "".join(f'<li><a href="/docs/{p.name}">{html.escape(p.stem)}</a></li>'
                        for p in sorted(DOCS_DIR.glob("*.md")))
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>Statecraft docs</title>"
                            f"<h1>Statecraft docs</h1><ul>{items}</ul><p><a href=/>query UI</a></p>")

    @app.get("/docs/{name}")
    async def doc(name: str) -> Response:
        path = DOCS_DIR / name
        if "/" in name or not name.endswith(".md") or not path.is_file():
            return error_response(404, f"no document named {name}; see /docs/")
        return Response(path.read_bytes(), media_type="text/markdown; charset=utf-8")


async def graph_counts(queries: QueryService) -> dict[str, int]:
    rows = await queries.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


async def read_body(request: Request, limit: int) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise QueryFailed(413, f"the request body exceeds the limit of {limit} bytes")
    return body


def register_sparql(app: FastAPI, settings: Settings) -> None:
    @app.api_route("/sparql", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def sparql(request: Request) -> Response:
        return await answer_sparql(request, settings)


async def answer_sparql(request: Request, settings: Settings) -> Response:
    try:
        body = await read_body(request, settings.max_request_bytes) if request.method != "GET" else b""
        parsed = parse_request(request.method, request.url.query, request.headers.get("content-type"), body)
        if parsed.operation == "description":
            return await service_description(request)
        queries: QueryService = request.app.state.queries
        answer = await until_disconnected(request, queries.run(queries.job(
            parsed.text, accept=request.headers.get("accept"),
            result_format=format_parameter(request.query_params.get("format")),
            default_graphs=parsed.default_graphs, named_graphs=parsed.named_graphs,
            base_iri=str(request.url.replace(query="")))))
        if answer is None:
            return error_response(499, "the client closed the connection before the answer was ready")
    except QueryFailed as failure:
        return error_response(failure.status, failure.message)
    except Exception as error:  # never a reset connection or a stack trace: a 500 that says what failed
        return error_response(500, f"internal error while answering the request: {type(error).__name__}: {error}")
    return Response(answer.body, media_type=answer.content_type, headers={"Vary": "Accept"})


async def until_disconnected(request: Request, work):
    """Await work, or cancel it when the client closes the connection first (then None): a query
    nobody waits for must not hold a worker, nor wait in the queue for one."""
    task = asyncio.ensure_future(work)

    async def disconnected():
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    return None


class SparqlFastPath:
    """Plain GET and POST requests to /sparql go straight to the handler, past FastAPI's routing and
    middleware stack (a third of a small query's time in the front process). A request with an Origin
    header takes the full stack, so that CORS answers it; everything else is the same handler."""

    def __init__(self, app, application: FastAPI, settings: Settings):
        self.app, self.application, self.settings = app, application, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/sparql" and scope["method"] in ("GET", "POST") \
                and not any(name == b"origin" for name, _ in scope["headers"]):
            scope["app"] = self.application
            response = await answer_sparql(Request(scope, receive), self.settings)
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


async def service_description(request: Request) -> Response:
    from .description import service_description_graph
    offered = ["text/html", *RDF_OFFERED]
    media_type = choose_media_type(request, offered)
    if media_type == "text/html":
        from .ui import ui_page
        return ui_page(request)
    if media_type is None:
        return error_response(406, f"the service description is available as {', '.join(offered)}")
    endpoint = str(request.url.replace(query=""))
    graph = service_description_graph(endpoint, request.app.state.counts, request.app.state.settings)
    return rdf_response(graph.serialize(format=RDFLIB_FORMATS[media_type]).encode("utf-8"), media_type)


RDFLIB_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
                  "application/rdf+xml": "xml"}


def rdf_response(body: bytes, media_type: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status_code=status, media_type=f"{media_type}; charset=utf-8",
                    headers={"Vary": "Accept", **(headers or {})})


def register_data(app: FastAPI, settings: Settings) -> None:
    @app.get("/health")
    async def health(request: Request) -> JSONResponse:
        engine = request.app.state.engine
        counts = request.app.state.counts
        return JSONResponse({"status": "ok", "process": os.getpid(), "engine": getattr(engine, "query_url", "embedded"),
                             "workers": engine.size, "graphs": len(counts), "triples": sum(counts.values())})

    @app.get("/metrics")
    async def metrics(request: Request) -> PlainTextResponse:
        engine = request.app.state.engine
        text = request.app.state.metrics.render(engine.timeouts, engine.restarts, engine.size, engine.abandoned)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/data")
    async def graph_store(request: Request) -> Response:
        """Graph Store Protocol, read side: ?default (the union of all graphs) or ?graph=<iri>."""
        params = request.query_params
        media_type = choose_media_type(request, RDF_OFFERED)
        if media_type is None:
            return error_response(406, f"graphs are available as {', '.join(RDF_OFFERED)}")
        queries: QueryService = request.app.state.queries
        if "graph" in params and "default" not in params:
            graph = params["graph"]
            if graph not in request.app.state.counts:
                return error_response(404, f"there is no graph <{graph}> in this dataset; known graphs: "
                                           + ", ".join(f"<{g}>" for g in sorted(request.app.state.counts)))
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        elif "default" in params and "graph" not in params:
            query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
        else:
            return error_response(400, "GET /data needs exactly one of ?default or ?graph=<iri>")
        try:
            body = await queries.construct(query, media_type)
        except QueryFailed as failure:
            return error_response(failure.status, failure.message)
        return rdf_response(body, media_type)

    @app.get("/graph/{path:path}")
    async def named_graph(path: str, request: Request) -> Response:
        """A named graph's IRI dereferences to its Graph Store representation (303 See Other)."""
        from urllib.parse import quote
        iri = f"{request.app.state.settings.base_iri}graph/{path}"
        return Response(status_code=303, headers={"Location": f"/data?graph={quote(iri, safe='')}"})

    @app.get("/dataset")
    @app.get("/dataset/{path:path}")
    async def dataset(path: str = "") -> Response:
        """The dataset's IRI (and its subsets' and distributions') dereference to the VoID/DCAT description."""
        return Response(status_code=303, headers={"Location": "/.well-known/void"})

    @app.get("/.well-known/void")
    async def void(request: Request) -> Response:
        return await dump_as(request, "void.ttl")

    @app.get("/context.jsonld")
    async def context() -> Response:
        return dist_file("context.jsonld", "application/ld+json; charset=utf-8")

    @app.get("/dist/{name}")
    async def dump(name: str) -> Response:
        if name not in DUMP_FILES:
            return error_response(404, f"no dump named {name}; the dumps are: {', '.join(DUMP_FILES)}")
        media = {".trig": "application/trig", ".nq": "application/n-quads", ".ttl": "text/turtle",
                 ".jsonld": "application/ld+json", ".json": "application/json"}[Path(name).suffix]
        return dist_file(name, f"{media}; charset=utf-8", download=True)

    def dist_file(name: str, media_type: str, download: bool = False) -> Response:
        path = settings.dist_dir / name
        if not path.is_file():
            return error_response(404, f"{name} is not in {settings.dist_dir}: this server was started on a store "
                                       "or engine without the build's dumps")
        return FileResponse(path, media_type=media_type, filename=name if download else None)


async def dump_as(request: Request, name: str) -> Response:
    """A Turtle file of dist/, content-negotiated into the other RDF syntaxes by Oxigraph."""
    import pyoxigraph
    media_type = choose_media_type(request, RDF_OFFERED)
    if media_type is None:
        return error_response(406, f"available as {', '.join(RDF_OFFERED)}")
    path = request.app.state.settings.dist_dir / name
    if not path.is_file():
        return error_response(404, f"{name} is not in {path.parent}: this server was started on a store or engine "
                                   "without the build's dumps")
    if media_type == "text/turtle":
        return rdf_response(path.read_bytes(), media_type)
    triples = pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    body = pyoxigraph.serialize(triples, format=getattr(pyoxigraph.RdfFormat, GRAPH_FORMATS[media_type]))
    return rdf_response(body, media_type)
