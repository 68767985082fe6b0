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
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from .metrics import Metrics
from .negotiation import negotiate
from .protocol import (WRITES_DISABLED, check_update_syntax, invalid_iri, parse_request, refuse_network_operations,
                       refuse_outbound)
from .settings import Settings
from .store import Prepared, prepare
from .workers import (GRAPH_FORMATS, STORED_DEFAULT_GRAPH, QueryAnswer, QueryFailed, QueryJob, QueryTimedOut,
                      UpdateSyntaxJob, WorkerPool, WorkersBusy)
from .writer import WWW_AUTHENTICATE, Unauthorised, Writes, check_write_settings

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

    async def check_update(self, update: str, base_iri: str) -> None:
        """The update's grammar (400 if it is malformed), checked where a runaway or a crash cannot
        hurt the front process: in a query worker, under the time limit."""
        if isinstance(self.engine, WorkerPool):
            await self.engine.run(UpdateSyntaxJob(update, base_iri))
        else:
            await run_in_threadpool(check_update_syntax, update, base_iri)

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


_HOST = re.compile(rb"[A-Za-z0-9.\-_~%:\[\]]+")


class RequestSizeLimit:
    """413 for a declared body over the limit, before any route reads it, and 400 for a Host header
    that is not a host name (it is echoed into links and Link headers). Plain ASGI: Starlette's
    BaseHTTPMiddleware costs more per request than the rest of a small query's path."""

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
                elif name == b"host" and not _HOST.fullmatch(value):
                    response = error_response(400, "the Host header is not a host name (letters, digits, . - _ ~ %, "
                                                   "an [IPv6] literal, and :port)")
                    return await response(scope, receive, send)
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
        return engine, None, None, None
    prepared = prepared or await run_in_threadpool(prepare, settings)
    pool = WorkerPool(prepared.source, settings.workers, settings.query_timeout, settings.queue_timeout)
    await pool.start()
    return pool, prepared.counts, prepared.store_root, prepared.writer_lock


def create_app(settings: Settings | None = None, prepared: Prepared | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    tokens = check_write_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine, counts, store_root, app.state.writer_lock = await start_engine(settings, prepared)
        app.state.engine = engine
        app.state.queries = QueryService(engine, settings, app.state.metrics)
        app.state.counts = counts or await graph_counts(app.state.queries)
        app.state.writes, app.state.writes_unavailable = None, None
        if tokens.enabled and store_root is None:
            from .workers import log
            app.state.writes_unavailable = (
                f"writes are configured, but the store {settings.store} was prepared outside Statecraft and is "
                "served read-only (it has no generations); nothing was changed. Serve a store that `statecraft "
                "serve --store` loaded to accept writes")
            log.error("%s", app.state.writes_unavailable)
        elif tokens.enabled:
            from .writer import writer_pool
            app.state.writes = Writes(writer_pool(store_root, settings.write_timeout, settings.write_timeout),
                                      store_root, engine)
            await app.state.writes.writer.start()
        try:
            yield
        finally:
            if app.state.writes is not None:
                await app.state.writes.writer.close()
            await engine.close()

    # No Swagger page: FastAPI's loads its scripts from a CDN, and this server works offline.
    app = FastAPI(title="Statecraft SPARQL endpoint", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.tokens = tokens
    app.state.metrics = Metrics()
    if settings.cors:
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                           allow_headers=["*"], expose_headers=["Content-Type", "Link", "Vary", "Location"])

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def plain_http_error(request: Request, error: StarletteHTTPException) -> Response:
        """The router's own refusals (405, 404) in the same plain-text form as every other error."""
        message = {405: f"method {request.method} is not allowed on {request.url.path}",
                   404: f"nothing is served at {request.url.path}; see / for the query UI and /docs/"}.get(
            error.status_code, str(error.detail))
        response = error_response(error.status_code, message)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    # Starlette runs the last added outermost: the size limit sees every request, the fast path included.
    app.add_middleware(SparqlFastPath, application=app, settings=settings)
    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)

    register_sparql(app, settings)
    register_data(app, settings)
    register_more_data(app, settings)
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
        parsed = parse_request(request.method, request.url.query, request.headers.get("content-type"), body,
                               base_iri=str(request.url.replace(query="")))
        if parsed.operation == "description":
            return await service_description(request)
        if parsed.operation == "update":
            from .curation import WriteJob
            await request.app.state.queries.check_update(parsed.text, str(request.url.replace(query="")))
            refuse_network_operations(parsed.text)
            return await answer_write(request, lambda agent: WriteJob(
                "update", agent, text=parsed.text, using=parsed.using, using_named=parsed.using_named,
                base_iri=str(request.url.replace(query="")), max_write_quads=settings.max_write_quads))
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


async def answer_write(request: Request, make_job) -> Response:
    """Authorise, hand the write to the writer process, and answer with what it did (JSON), or with
    the validation report (JSON, or Turtle on request) when the shapes refused it."""
    writes: Writes | None = request.app.state.writes
    try:
        if writes is None and request.app.state.writes_unavailable:
            from .workers import log
            log.error("a write was refused: %s", request.app.state.writes_unavailable)
            raise QueryFailed(503, request.app.state.writes_unavailable)
        if writes is None:
            raise QueryFailed(403, WRITES_DISABLED)
        agent = request.app.state.tokens.who(request.headers.get("authorization"))
        outcome = await writes.run(request.app, make_job(agent))
    except Unauthorised as failure:
        response = error_response(401, failure.message)
        response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response
    except QueryFailed as failure:
        return error_response(failure.status, failure.message)
    headers = {"Location": outcome.location} if getattr(outcome, "location", None) else {}
    if outcome.status == 422 and negotiate(request.headers.get("accept"), ["application/json", "text/turtle"]) \
            == "text/turtle":
        return Response(outcome.report_turtle, status_code=422, media_type="text/turtle; charset=utf-8")
    return JSONResponse(outcome.as_json(), status_code=outcome.status, headers=headers)


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
        writes: Writes | None = request.app.state.writes
        if writes is not None:
            text += ("# HELP statecraft_writes_total Writes answered by the writer process, by outcome.\n"
                     "# TYPE statecraft_writes_total counter\n"
                     f'statecraft_writes_total{{outcome="committed"}} {writes.committed}\n'
                     f'statecraft_writes_total{{outcome="refused_by_shapes"}} {writes.refused}\n'
                     f'statecraft_writes_total{{outcome="failed"}} {writes.failed}\n'
                     "# HELP statecraft_writer_restarts_total Writer processes stopped at the write time limit.\n"
                     "# TYPE statecraft_writer_restarts_total counter\n"
                     f"statecraft_writer_restarts_total {writes.writer.restarts}\n")
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.api_route("/data", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
    async def graph_store_indirect(request: Request) -> Response:
        """Graph Store Protocol with indirect identification: ?default (the stored default graph) or
        ?graph=<iri>; a POST with neither creates a new graph and answers with its IRI in Location."""
        params = request.query_params
        if "graph" in params and "default" not in params:
            return await graph_store(request, params["graph"])
        if "default" in params and "graph" not in params:
            return await graph_store(request, None)
        if not params and request.method == "POST":
            import uuid
            return await graph_store(request, f"{settings.base_iri}graph/curated/{uuid.uuid4().hex}", created=True)
        return error_response(400, f"{request.method} /data needs exactly one of ?default or ?graph=<iri>")

    @app.api_route("/data/{path:path}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
    async def graph_store_direct(path: str, request: Request) -> Response:
        """Graph Store Protocol with direct identification: the request's URL is the graph's IRI."""
        return await graph_store(request, str(request.url.replace(query="")))


async def graph_store(request: Request, graph: str | None, created: bool = False) -> Response:
    """One graph (None: the default graph) of the Graph Store Protocol: read, or replace, add to, delete."""
    settings: Settings = request.app.state.settings
    if graph is not None:
        problem = invalid_iri(graph)
        if problem:
            return error_response(400, f"the graph IRI <{graph}> is not an absolute IRI: {problem}")
    if request.method in ("PUT", "POST", "DELETE"):
        from .curation import WriteJob
        try:
            body = await read_body(request, settings.max_request_bytes) if request.method != "DELETE" else b""
        except QueryFailed as failure:
            return error_response(failure.status, failure.message)
        response = await answer_write(request, lambda agent: WriteJob(
            request.method, agent, graph=graph, body=body, content_type=request.headers.get("content-type"),
            base_iri=graph or str(request.url.replace(query="")), max_write_quads=settings.max_write_quads))
        if created and response.status_code in (200, 201):
            response.status_code = 201
            response.headers["Location"] = graph
        return response
    media_type = choose_media_type(request, RDF_OFFERED)
    if media_type is None:
        return error_response(406, f"graphs are available as {', '.join(RDF_OFFERED)}")
    queries: QueryService = request.app.state.queries
    options = {}
    if graph is not None:
        if graph not in request.app.state.counts:
            shown = sorted(request.app.state.counts)
            return error_response(404, f"there is no graph <{graph}> in this dataset; known graphs: "
                                       + ", ".join(f"<{g}>" for g in shown[:50]) + (" …" if len(shown) > 50 else ""))
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    else:
        query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
        if isinstance(request.app.state.engine, WorkerPool):
            options = {"default_graphs": (STORED_DEFAULT_GRAPH,), "named_graphs": ()}
    try:
        body = await queries.run(queries.job(query, result_format=media_type, **options))
    except QueryFailed as failure:
        return error_response(failure.status, failure.message)
    return rdf_response(body.body, media_type)


def register_more_data(app: FastAPI, settings: Settings) -> None:
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
