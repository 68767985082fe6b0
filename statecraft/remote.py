"""A remote SPARQL 1.1 engine in place of the embedded store, and `statecraft push` to load it.

`RemoteEngine` answers the same jobs as the worker pool (statecraft.workers) by sending them to an
external engine over the SPARQL 1.1 Protocol, under the same limits: the time limit (the request is
abandoned; the engine's own limit must stop the query there), the result cap (the answer is read as
a stream and refused once over it), and the number of queries in flight. SERVICE refusal and the
read-only protocol checks happen before a job gets here, so they hold in both modes.

The engine's default graph must be the union of its named graphs, as the embedded store's is
(Oxigraph: `--union-default-graph`; Fuseki: `tdb2:unionDefaultGraph true`; GraphDB and Virtuoso
query the union by default).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

from .workers import QueryAnswer, QueryFailed, QueryJob, QueryTimedOut, WorkersBusy

DEFAULT_ACCEPT = "application/sparql-results+json, text/turtle;q=0.9, */*;q=0.1"
RDF_MEDIA_TYPES = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
                   "application/trig", "application/n-quads", "text/plain")


class RemoteEngine:
    """Jobs answered by an external engine's query URL; the same interface as WorkerPool."""

    restarts = 0  # no worker processes of ours to replace
    abandoned = 0  # an abandoned request is closed; the engine's own limit stops its query

    def __init__(self, query_url: str, size: int = 8, query_timeout: float = 10.0, queue_timeout: float = 10.0):
        self.query_url = query_url
        self.size = max(1, size)
        self.query_timeout = query_timeout
        self.queue_timeout = queue_timeout
        self.timeouts = 0
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.query_timeout, connect=5.0),
                                         limits=httpx.Limits(max_connections=self.size), trust_env=False)
        self._slots = asyncio.Semaphore(self.size)
        try:
            await self._check_union_default_graph()
        except BaseException:
            await self.close()
            raise

    async def _check_union_default_graph(self) -> None:
        try:
            rows = json.loads((await self.run(_json_job(
                "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(!isBlank(?s) && !isBlank(?o)) } LIMIT 1"))).body)
        except QueryFailed as failure:
            raise RuntimeError(f"the engine at {self.query_url} does not answer queries: {failure.message}") from None
        bindings = rows["results"]["bindings"]
        if not bindings:
            return  # an empty engine (nothing pushed yet) has nothing to check
        s, p, o = (_term(bindings[0][name]) for name in ("s", "p", "o"))
        answer = json.loads((await self.run(_json_job(f"ASK {{ {s} {p} {o} }}"))).body)
        if not answer["boolean"]:
            raise RuntimeError(f"the default graph of the engine at {self.query_url} is not the union of its named "
                               "graphs (a triple of a named graph is missing from it); start the engine with its "
                               "union-default-graph option (Oxigraph: --union-default-graph)")

    async def run(self, job: QueryJob) -> QueryAnswer:
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
        except asyncio.TimeoutError:
            raise WorkersBusy(503, f"all {self.size} connections to the engine are busy; try again shortly") from None
        try:
            return await asyncio.wait_for(self._exchange(job), self.query_timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            self.timeouts += 1
            raise QueryTimedOut(503, f"the engine did not answer within the limit of {self.query_timeout:g} s; "
                                     "the request was abandoned") from None
        except httpx.HTTPError as error:
            raise QueryFailed(502, f"the engine at {self.query_url} could not be reached: "
                                   f"{type(error).__name__}: {error}") from None
        finally:
            self._slots.release()

    async def _exchange(self, job: QueryJob) -> QueryAnswer:
        form = [("query", job.query)]
        form += [("default-graph-uri", g) for g in job.default_graphs or ()]
        form += [("named-graph-uri", g) for g in job.named_graphs or ()]
        headers = {"Accept": job.result_format or job.accept or DEFAULT_ACCEPT,
                   "Content-Type": "application/x-www-form-urlencoded"}
        async with self._client.stream("POST", self.query_url, content=urlencode(form).encode("ascii"),
                                       headers=headers) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > job.max_result_bytes:
                    raise QueryFailed(507, f"the result is larger than the cap of {job.max_result_bytes} bytes; "
                                           "narrow the query or add LIMIT (results are never truncated)")
        media_type = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
        if response.status_code >= 500:
            raise QueryFailed(502, f"the engine failed ({response.status_code}): {_excerpt(body)}")
        if response.status_code >= 400:
            raise QueryFailed(response.status_code, f"the engine refused the query: {_excerpt(body)}")
        form_name = "CONSTRUCT" if media_type in RDF_MEDIA_TYPES else "SELECT"
        return QueryAnswer(200, media_type, bytes(body), form_name)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _json_job(query: str) -> QueryJob:
    return QueryJob(query=query, result_format="application/sparql-results+json")


def _term(binding: dict) -> str:
    value = binding["value"]
    if binding["type"] == "uri":
        return f"<{value}>"
    escaped = json.dumps(value)  # a valid SPARQL string: JSON escapes are a subset of SPARQL's
    if "xml:lang" in binding:
        return f"{escaped}@{binding['xml:lang']}"
    return f"{escaped}^^<{binding.get('datatype', 'http://www.w3.org/2001/XMLSchema#string')}>"


def _excerpt(body: bytes, limit: int = 500) -> str:
    text = bytes(body[:limit]).decode("utf-8", "replace").strip()
    return text + ("…" if len(body) > limit else "")


# --------------------------------------------------------------------------------------------
# statecraft push
# --------------------------------------------------------------------------------------------

class PushError(Exception):
    pass


def push(nquads: Path, *, store_url: str | None = None, update_url: str | None = None,
         query_url: str | None = None, expected_counts: dict[str, int] | None = None,
         timeout: float = 600.0, say=print) -> dict[str, int]:
    """Replace each named graph of the dump in the engine: a Graph Store Protocol PUT per graph
    (store_url), or, for engines with only SPARQL Update, DROP + INSERT DATA in one request per graph
    (update_url). Then, given query_url, compare the engine's triples per graph with expected_counts.
    Returns the triples sent per graph."""
    if not (store_url or update_url):
        raise PushError("give the engine's Graph Store URL (--engine-store) or its update URL (--engine-update)")
    sent: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="statecraft-push-") as folder, \
            httpx.Client(timeout=timeout, trust_env=False) as client:
        files = _split_by_graph(nquads, Path(folder), sent)
        for graph, path in files.items():
            if store_url:
                target = f"{store_url}{'&' if '?' in store_url else '?'}graph={quote(graph, safe='')}"
                with path.open("rb") as body:
                    response = client.put(target, content=body, headers={"Content-Type": "application/n-triples"})
            else:
                update = (f"DROP SILENT GRAPH <{graph}> ;\nINSERT DATA {{ GRAPH <{graph}> {{\n"
                          + path.read_text(encoding="utf-8") + "}}")
                response = client.post(update_url, content=update.encode("utf-8"),
                                       headers={"Content-Type": "application/sparql-update"})
            if response.status_code >= 300:
                raise PushError(f"the engine refused graph <{graph}> ({response.status_code}): "
                                f"{_excerpt(response.content)}")
            say(f"pushed <{graph}>: {sent[graph]} triples")
        if query_url:
            _check_counts(client, query_url, expected_counts or sent)
    return sent


def _split_by_graph(nquads: Path, folder: Path, counts: dict[str, int]) -> dict[str, Path]:
    """One N-Triples file per named graph, streamed: a dump of any size in constant memory."""
    import pyoxigraph
    files: dict[str, Path] = {}
    handles = {}
    try:
        for quad in pyoxigraph.parse(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS):
            if isinstance(quad.graph_name, pyoxigraph.DefaultGraph):
                raise PushError(f"{nquads} has triples in the default graph; the dumps keep every triple in a named graph")
            graph = quad.graph_name.value
            if graph not in handles:
                files[graph] = folder / f"{len(files)}.nt"
                handles[graph] = files[graph].open("w", encoding="utf-8")
                counts[graph] = 0
            handles[graph].write(f"{quad.subject} {quad.predicate} {quad.object} .\n")
            counts[graph] += 1
    finally:
        for handle in handles.values():
            handle.close()
    return files


def _check_counts(client: httpx.Client, query_url: str, expected: dict[str, int]) -> None:
    response = client.post(query_url, data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
                           headers={"Accept": "application/sparql-results+json"})
    if response.status_code != 200:
        raise PushError(f"the engine's query URL {query_url} answered {response.status_code}: {_excerpt(response.content)}")
    found = {row["g"]["value"]: int(row["n"]["value"]) for row in response.json()["results"]["bindings"]}
    wrong = {g: (n, found.get(g, 0)) for g, n in expected.items() if found.get(g, 0) != n}
    if wrong:
        raise PushError("the engine holds other counts than the dump: "
                        + "; ".join(f"<{g}> expected {n}, found {m}" for g, (n, m) in sorted(wrong.items())))
