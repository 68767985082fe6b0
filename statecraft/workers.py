"""Queries run in worker processes, so that a time limit really stops them.

pyoxigraph cannot cancel a running query and ignores signals while it runs; the only way to stop
one is to stop its process. Each worker opens the store (read-only on disk, or its own in-memory
copy of the dumps), runs one query at a time, negotiates the result format once it knows the query
form, and serialises the result with Oxigraph's own serialisers in the thread that ran the query
(pyoxigraph's result iterators abort the process if iterated from another thread). The parent sends
a job over a pipe and waits at most the time limit; past it, it kills the worker, starts a
replacement and answers 503. Other workers keep answering meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import os
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

RESULT_FORMATS = {  # media type → pyoxigraph QueryResultsFormat name
    "application/sparql-results+json": "JSON",
    "application/json": "JSON",
    "application/sparql-results+xml": "XML",
    "application/xml": "XML",
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
}
GRAPH_FORMATS = {  # media type → pyoxigraph RdfFormat name
    "text/turtle": "TURTLE",
    "application/n-triples": "N_TRIPLES",
    "application/ld+json": "JSON_LD",
    "application/rdf+xml": "RDF_XML",
    "application/trig": "TRIG",
    "application/n-quads": "N_QUADS",
    "text/plain": "N_TRIPLES",
}
TEXTUAL = ("text/", "application/sparql-results+", "application/json", "application/ld+json", "application/xml",
           "application/rdf+xml", "application/n-triples", "application/trig", "application/n-quads")


# A child of uvicorn's logger, so that these lines appear in the server's log in its format.
log = logging.getLogger("uvicorn.error.statecraft")

STORED_DEFAULT_GRAPH = ""      # in QueryJob.default_graphs: the store's own default graph, not a named one
ABANDONED_GRACE_SECONDS = 0.5   # how long a query whose client went away may still finish


class QueryFailed(Exception):
    """A query could not be answered; status is the HTTP status to send."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class QueryTimedOut(QueryFailed):
    """The query ran past the time limit and its worker was stopped."""


class WorkersBusy(QueryFailed):
    """No worker became free while the request waited."""


@dataclass(frozen=True)
class StoreSource:
    """Where workers get their data: an on-disk store (opened read-only) or dump files loaded in memory."""
    store_path: Path | None = None
    nquads_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class QueryJob:
    query: str
    accept: str | None = None
    result_format: str | None = None      # a media type that overrides Accept (the `format` parameter)
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_result_bytes: int = 50_000_000
    base_iri: str | None = None


@dataclass(frozen=True)
class UpdateSyntaxJob:
    """Check an update's grammar in a worker (protocol.check_update_syntax): never applied to the store."""
    update: str
    base_iri: str | None = None


@dataclass(frozen=True)
class QueryAnswer:
    status: int
    media_type: str
    body: bytes
    form: str        # SELECT, ASK, CONSTRUCT or DESCRIBE

    @property
    def content_type(self) -> str:
        textual = self.media_type.startswith(TEXTUAL)
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type


# --------------------------------------------------------------------------------------------
# In the worker process
# --------------------------------------------------------------------------------------------

def open_store(source: StoreSource):
    import pyoxigraph
    if source.store_path is not None:
        return pyoxigraph.Store.read_only(str(source.store_path))
    store = pyoxigraph.Store()
    for path in source.nquads_files:
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


def execute(store, job: QueryJob) -> QueryAnswer:
    """Run one query and serialise its result in the negotiated format (in this thread)."""
    import pyoxigraph
    from .negotiation import negotiate
    from .protocol import uses_dataset_clause

    options = {}
    if job.default_graphs is not None or job.named_graphs is not None:
        options["default_graph"] = [pyoxigraph.DefaultGraph() if g == STORED_DEFAULT_GRAPH else pyoxigraph.NamedNode(g)
                                    for g in job.default_graphs or ()]
        options["named_graphs"] = [pyoxigraph.NamedNode(g) for g in job.named_graphs or ()]
    elif not uses_dataset_clause(job.query):
        options["use_default_graph_as_union"] = True
    result = _query_with_unknown_functions_unbound(store, job, options)

    if isinstance(result, pyoxigraph.QueryTriples):
        offered, formats, form = list(GRAPH_FORMATS), GRAPH_FORMATS, "CONSTRUCT"
        offered.remove("text/plain")
        offered.append("text/plain")
    else:
        offered, formats = list(RESULT_FORMATS), RESULT_FORMATS
        form = "ASK" if isinstance(result, pyoxigraph.QueryBoolean) else "SELECT"
    media_type = job.result_format if job.result_format in formats else negotiate(job.accept, offered)
    if media_type is None:
        raise QueryFailed(406, f"none of the requested media types ({job.accept}) can carry a {form} result; "
                               f"available: {', '.join(offered)}")
    buffer = _CappedBuffer(job.max_result_bytes)
    try:
        if form == "CONSTRUCT":
            result.serialize(buffer, format=getattr(pyoxigraph.RdfFormat, formats[media_type]))
        else:
            result.serialize(buffer, format=getattr(pyoxigraph.QueryResultsFormat, formats[media_type]))
    except _ResultTooLarge:
        raise QueryFailed(507, f"the result is larger than the cap of {job.max_result_bytes} bytes; "
                               "narrow the query or add LIMIT (results are never truncated)") from None
    except (ValueError, OSError) as error:
        raise QueryFailed(400, f"query evaluation failed: {error}") from None
    return QueryAnswer(200, media_type, buffer.getvalue(), form)


UNSUPPORTED_FUNCTION = re.compile(r"custom function <([^>]+)> is not supported")


def _query_with_unknown_functions_unbound(store, job: QueryJob, options: dict):
    """SPARQL 1.1 §17.6: a call to a function the engine does not know is an error value (the variable
    stays unbound), not a failed query. pyoxigraph refuses such queries, so each function it names is
    given an implementation that returns no value, and the query is tried again."""
    import pyoxigraph
    unknown: dict = {}
    for _ in range(32):
        try:
            return store.query(job.query, base_iri=job.base_iri, custom_functions=unknown or None, **options)
        except SyntaxError as error:
            raise QueryFailed(400, f"SPARQL syntax error: {error}") from None
        except RuntimeError as error:
            match = UNSUPPORTED_FUNCTION.search(str(error))
            if match is None or pyoxigraph.NamedNode(match.group(1)) in unknown:
                raise QueryFailed(400, f"query cannot be evaluated: {error}") from None
            unknown[pyoxigraph.NamedNode(match.group(1))] = lambda *arguments: None
        except (ValueError, OSError) as error:
            raise QueryFailed(400, f"query cannot be evaluated: {error}") from None
    raise QueryFailed(400, "the query calls too many functions this engine does not know")


class _ResultTooLarge(Exception):
    pass


class _CappedBuffer(io.BytesIO):
    def __init__(self, cap: int):
        super().__init__()
        self.cap = cap

    def write(self, data) -> int:
        if self.tell() + len(data) > self.cap:
            raise _ResultTooLarge()
        return super().write(data)


def serve_jobs(conn, start, handle, reopen=None, failure_prefix: str = "internal error") -> None:
    """The life of a pool process: `start()` (its failure is reported, and the pool refuses to
    start), "ready", then each job from the pipe answered with handle(state, job); a QueryFailed is
    sent back with its status, anything else as a 500. A StoreSource message (a write committed a
    new generation) is given to reopen(state, source) and answered with nothing; if that fails the
    process ends, and the pool replaces it."""
    try:
        state = start()
    except Exception as error:
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if reopen is not None and isinstance(job, StoreSource):
            state = reopen(state, job)
            continue
        try:
            conn.send(("ok", handle(state, job)))
        except QueryFailed as failure:
            conn.send(("failed-query", (failure.status, failure.message)))
        except Exception as error:
            conn.send(("failed-query", (500, f"{failure_prefix}: {type(error).__name__}: {error}")))


def _answer(store, job):
    if isinstance(job, UpdateSyntaxJob):
        from .protocol import check_update_syntax
        return check_update_syntax(job.update, job.base_iri)
    return execute(store, job)


def _reopen(store, source: StoreSource):
    del store
    return open_store(source)


def _worker_main(conn, source: StoreSource) -> None:
    serve_jobs(conn, lambda: open_store(source), _answer, reopen=_reopen)


# --------------------------------------------------------------------------------------------
# In the server process
# --------------------------------------------------------------------------------------------

@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object
    source: object = None     # what the process has open


class WorkerPool:
    """A fixed number of query worker processes; a worker over the time limit is killed and replaced.

    `run` is a coroutine: the event loop waits on the worker's pipe directly (no thread per request),
    so the front process spends its time on HTTP, not on hand-offs between threads.
    """

    def __init__(self, source, size: int = 2, query_timeout: float = 10.0, queue_timeout: float = 10.0,
                 main=_worker_main, name: str = "query worker", job_noun: str = "query"):
        self.source = source
        self.main, self.name, self.job_noun = main, name, job_noun
        self.size = max(1, size)
        self.query_timeout = query_timeout
        self.queue_timeout = queue_timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._all: dict[int, _Worker] = {}
        self._tasks: set[asyncio.Task] = set()
        self._lock = threading.Lock()
        self.timeouts = 0
        self.restarts = 0
        self.abandoned = 0   # queries stopped because their client went away
        self._closed = False

    async def start(self) -> None:
        """Start the workers and wait until each has opened the store (in a thread: opening may take long)."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()

        def start_all() -> list[_Worker]:
            workers = [self._spawn() for _ in range(self.size)]
            for worker in workers:
                self._await_ready(worker)
            return workers

        for worker in await asyncio.to_thread(start_all):
            self._idle.put_nowait(worker)

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=self.main, args=(child, self.source), daemon=True,
                                        name="statecraft-" + self.name.replace(" ", "-"))
        process.start()
        child.close()
        worker = _Worker(process, parent, self.source)
        with self._lock:
            self._all[process.pid] = worker
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.conn.poll(120):
            raise RuntimeError(f"a {self.name} did not start within 120 s")
        kind, detail = worker.conn.recv()
        if kind != "ready":
            raise RuntimeError(f"a {self.name} could not start: {detail}")

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        with self._lock:
            self._all.pop(worker.process.pid, None)
        self.restarts += 1
        if self._closed:
            return

        def start_replacement():
            replacement = self._spawn()
            try:
                self._await_ready(replacement)
            except RuntimeError as error:
                log.error("a replacement %s could not start: %s", self.name, error)
                replacement.process.kill()
                return
            self._loop.call_soon_threadsafe(self._idle.put_nowait, replacement)

        threading.Thread(target=start_replacement, daemon=True).start()

    async def _reply(self, worker: _Worker, timeout: float) -> bool:
        """Wait until the worker has something to say; False after the time limit."""
        readable = self._loop.create_future()
        fd = worker.conn.fileno()
        self._loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        try:
            await asyncio.wait_for(readable, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._loop.remove_reader(fd)
            os.set_blocking(fd, True)  # uvloop leaves a watched fd non-blocking; Connection.recv needs it blocking

    async def run(self, job: QueryJob) -> QueryAnswer:
        """Run the job on a free worker; QueryFailed on errors, time-outs and a full pool."""
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.queue_timeout)
        except asyncio.TimeoutError:
            log.warning("all %d %ss stayed busy for %g s: a request was answered 503", self.size, self.name,
                        self.queue_timeout)
            raise WorkersBusy(503, f"all {self.size} {self.name}s are busy; try again shortly") from None
        deadline = self._loop.time() + self.query_timeout
        try:
            if worker.source != self.source:
                worker.conn.send(self.source)
                worker.source = self.source
            worker.conn.send(job)
            answered = await self._reply(worker, self.query_timeout)
        except asyncio.CancelledError:
            # The client went away: the worker still owes an answer nobody will read. It rejoins the
            # pool once that answer is drained (so it is never given to the next query), or is stopped
            # and replaced if the answer does not come within a short grace period.
            self._background(self._drain(worker, min(deadline, self._loop.time() + ABANDONED_GRACE_SECONDS)))
            raise
        except (BrokenPipeError, ConnectionResetError, OSError):
            log.error("the %s %d stopped unexpectedly (exit code %s); it is being replaced", self.name,
                      worker.process.pid, worker.process.exitcode)
            self._replace(worker)
            raise QueryFailed(500, f"the {self.name} stopped unexpectedly (exit code {worker.process.exitcode}); "
                                   "it has been replaced") from None
        if not answered:
            self.timeouts += 1
            log.warning("the %s %d ran past the %g s limit: stopped and being replaced", self.name,
                        worker.process.pid, self.query_timeout)
            self._replace(worker)
            raise QueryTimedOut(503, f"the {self.job_noun} ran longer than the limit of {self.query_timeout:g} s and "
                                     "was stopped")
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(1)
            log.error("the %s %d stopped unexpectedly (exit code %s); it is being replaced", self.name,
                      worker.process.pid, worker.process.exitcode)
            self._replace(worker)
            raise QueryFailed(500, f"the {self.name} stopped unexpectedly (exit code {worker.process.exitcode}); "
                                   "it has been replaced") from None
        self._idle.put_nowait(worker)
        if kind == "ok":
            return payload
        status, message = payload
        raise QueryFailed(status, message)

    def use(self, source) -> None:
        """Give every query from now on to a worker reading `source` (a new generation of the store):
        idle workers reopen it before their next job, busy ones after their current one."""
        self.source = source

    def sources_in_use(self) -> set:
        with self._lock:
            return {worker.source for worker in self._all.values()} | {self.source}

    def _background(self, coroutine) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, worker: _Worker, deadline: float) -> None:
        try:
            if await self._reply(worker, max(0.0, deadline - self._loop.time())):
                worker.conn.recv()
                self._idle.put_nowait(worker)
                return
        except (EOFError, OSError):
            pass
        self.abandoned += 1
        self._replace(worker)

    async def close(self) -> None:
        self._closed = True
        while self._idle is not None and not self._idle.empty():
            worker = self._idle.get_nowait()
            worker.process.kill()
            worker.process.join(5)
        with self._lock:
            for pid in list(self._all):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._all.clear()
