"""The write path in the server: who may write (tokens), and the writer process that applies writes.

Writes are off unless an operator configures a token (STATECRAFT_WRITE_TOKEN, or a file of
`name token` lines in STATECRAFT_WRITE_TOKEN_FILE). A client sends it as `Authorization: Bearer
<token>` (or as the password of HTTP Basic). Tokens are compared in constant time and never logged;
the journal records the token's name.

One writer process applies writes one at a time (statecraft.curation); like a query worker it is
stopped and replaced when a write runs past its time limit, and then nothing is committed. After a
commit, the query workers move to the new generation before the response is sent, so a client
reads its own write.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from .settings import Settings
from .workers import QueryFailed, StoreSource, WorkerPool, WorkersBusy, log, serve_jobs

WWW_AUTHENTICATE = 'Bearer realm="statecraft", charset="UTF-8"'
WRITER_NICENESS = 10


class Unauthorised(QueryFailed):
    """401: no credentials were sent."""


@dataclass(frozen=True)
class Tokens:
    by_name: tuple[tuple[str, bytes], ...]

    @property
    def enabled(self) -> bool:
        return bool(self.by_name)

    @classmethod
    def configured(cls, token: str | None, token_file: Path | None) -> "Tokens":
        pairs = []
        if token:
            pairs.append(("curator", token.encode("utf-8")))
        if token_file is not None:
            try:
                lines = token_file.read_text(encoding="utf-8").splitlines()
            except OSError as error:
                raise ValueError(f"the write token file {token_file} cannot be read: {error.strerror}") from None
            for number, line in enumerate(lines, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                name, _, secret = line.partition(" ")
                secret = secret.strip()
                if not secret or not name.replace("-", "").replace("_", "").isalnum():
                    raise ValueError(f"{token_file}:{number}: expected `name token` (a name of letters, digits, "
                                     "- and _, a space, then the token)")
                pairs.append((name, secret.encode("utf-8")))
        for name, secret in pairs:
            if len(secret) < 16:
                raise ValueError(f"the write token of {name!r} is shorter than 16 characters; use a long random "
                                 "one (python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return cls(tuple(pairs))

    def who(self, authorization: str | None) -> str:
        """The name of the token the request carries; Unauthorised (401) or QueryFailed(403) otherwise."""
        if not authorization:
            raise Unauthorised(401, "this write needs a curator's token: send `Authorization: Bearer <token>`")
        scheme, _, credentials = authorization.strip().partition(" ")
        presented = None
        if scheme.lower() == "bearer":
            presented = credentials.strip().encode("utf-8")
        elif scheme.lower() == "basic":
            try:
                presented = base64.b64decode(credentials.strip(), validate=True).partition(b":")[2]
            except ValueError:
                presented = None
        if presented is None:
            raise Unauthorised(401, f"unsupported authorization scheme {scheme!r}: send `Authorization: Bearer <token>`")
        matched = None
        for name, secret in self.by_name:   # every token is compared, so the time does not tell which matched
            if hmac.compare_digest(presented, secret):
                matched = name
        if matched is None:
            raise QueryFailed(403, "the token is not valid for writes on this server; nothing was changed")
        return matched


@dataclass(frozen=True)
class WriterSource:
    store_root: Path
    rules_dir: Path | None


def _writer_main(conn, source: WriterSource) -> None:
    from .curation import Writer

    def start():
        try:
            os.nice(WRITER_NICENESS)   # reads are what researchers wait for: validating a write yields the CPU to them
        except OSError:
            pass
        return Writer(source.store_root, source.rules_dir)

    serve_jobs(conn, start, lambda writer, job: writer.write(job),
               failure_prefix="internal error while writing (nothing was committed)")


def writer_pool(store_root: Path, write_timeout: float, queue_timeout: float) -> WorkerPool:
    from .incremental import RULES_DIR
    return WorkerPool(WriterSource(store_root, RULES_DIR), size=1, query_timeout=write_timeout,
                      queue_timeout=queue_timeout, main=_writer_main, name="writer process",
                      job_noun="write (nothing was committed)")


class WriteSettingsError(Exception):
    pass


def check_write_settings(settings: Settings) -> Tokens:
    """The curators' tokens; WriteSettingsError when writes are configured where they cannot be kept."""
    try:
        tokens = Tokens.configured(settings.write_token, settings.write_token_file)
    except ValueError as error:
        raise WriteSettingsError(str(error)) from None
    if tokens.enabled:
        if settings.engine:
            raise WriteSettingsError("writes are served on the embedded store only; with --engine, write to the "
                                     "engine itself, or unset STATECRAFT_WRITE_TOKEN")
        if settings.store is None:
            raise WriteSettingsError("writes need the on-disk store (--store PATH): in memory, every committed "
                                     "write would be lost when the server stops")
        if settings.http_workers > 1:
            raise WriteSettingsError("writes need a single front process (--http-workers 1): the store has one "
                                     "writer")
    return tokens


class Writes:
    """The writer process and what a commit changes in the front process: the generation the query
    workers read, the triples per graph, and which old generations can go."""

    def __init__(self, writer: WorkerPool, store_root: Path, queries_pool):
        from .generations import Generations
        self.writer, self.generations, self.queries_pool = writer, Generations(store_root), queries_pool
        self.committed = self.refused = self.failed = 0
        self._one_at_a_time = asyncio.Lock()   # a commit's clean-up finishes before the next write starts

    async def run(self, app, job):
        waited = self.writer.queue_timeout
        try:
            await asyncio.wait_for(self._one_at_a_time.acquire(), waited)
        except asyncio.TimeoutError:
            raise WorkersBusy(503, f"other writes kept the writer busy for {waited:g} s; nothing was changed, "
                                   "try again shortly") from None
        try:
            return await self._run(app, job)
        finally:
            self._one_at_a_time.release()

    async def _run(self, app, job):
        try:
            outcome = await self.writer.run(job)
        except QueryFailed as failure:
            self.failed += 1
            (log.error if failure.status >= 500 else log.info)("write by %s refused (%d): %s", job.agent,
                                                               failure.status, failure.message)
            raise
        if outcome.generation is not None:
            log.info("write by %s committed in %.2f s: %d quad(s) inserted, %d deleted; now serving %s", job.agent,
                     outcome.seconds, outcome.inserted, outcome.deleted, outcome.generation.name)
            self.queries_pool.use(StoreSource(store_path=outcome.generation))
            app.state.counts = outcome.counts
            self.committed += 1
            in_use = {source.store_path for source in self.queries_pool.sources_in_use()}
            await asyncio.to_thread(self.generations.collect, in_use)
        elif outcome.status == 422:
            self.refused += 1
            log.info("write by %s refused by the shapes: %d violation(s); nothing changed", job.agent,
                     len(outcome.violations))
        return outcome
