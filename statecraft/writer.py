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

import base64
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from .workers import QueryFailed, WorkerPool

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
    try:
        os.nice(WRITER_NICENESS)   # reads are what researchers wait for: validating a write yields the CPU to them
    except OSError:
        pass
    try:
        writer = Writer(source.store_root, source.rules_dir)
    except Exception as error:
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", writer.write(job)))
        except QueryFailed as failure:
            conn.send(("failed-query", (failure.status, failure.message)))
        except Exception as error:
            conn.send(("failed-query", (500, f"internal error while writing (nothing was committed): "
                                             f"{type(error).__name__}: {error}")))


def writer_pool(store_root: Path, write_timeout: float, queue_timeout: float) -> WorkerPool:
    from .incremental import RULES_DIR
    return WorkerPool(WriterSource(store_root, RULES_DIR), size=1, query_timeout=write_timeout,
                      queue_timeout=queue_timeout, main=_writer_main, name="writer process")
