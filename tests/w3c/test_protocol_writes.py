"""The W3C SPARQL 1.1 Protocol suite (protocol/manifest.ttl) again, on a server with writes enabled.

Unlike test_protocol.py (the read-only endpoint, where the update_* tests must be refused), every
request of every test is sent here, the update_* tests' follow-up ASK queries included, and each
response must be as the manifest says. The server (fixture `w3c_write_server`) holds the same data
as the read-only one, in the on-disk generations layout, and has a curator's token configured; the
token goes with every request.

The update tests CLEAR / DROP everything, so every test starts from the suites' data, put back
through the server's own write interface: one SPARQL Update, `DROP ALL ; INSERT DATA { … }`, after
which the triples per graph are checked (see WriteServer.restore_dataset in conftest.py: the restore
is skipped when nothing was committed since the last one, which the journal's size tells). Beyond the manifest: CLEAR ALL must leave the suites'
graphs empty, and a refused bad_update_* request must leave every graph (the journal included) as it
was. `test_writes_need_the_token` checks the 401 / 403 answers to writes without the right token.
"""

from __future__ import annotations

import pytest

from .manifest import missing_message, protocol_tests, suites_root
from .test_protocol import check_response, send

SUITE = "Protocol (write-enabled)"
ROOT = suites_root()
TESTS = protocol_tests(ROOT) if ROOT else []
CLEARS_ALL = {"update_post_form", "update_post_direct"}   # the whole update is CLEAR ALL


def params():
    if ROOT is None:
        return [pytest.param(None, id="w3c-suites-missing")]
    return [pytest.param(test, id=test.name) for test in TESTS]


@pytest.mark.parametrize("test", params())
def test_protocol_writes(test, w3c_write_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    server = w3c_write_server
    request.node.user_properties.append(("w3c_title", test.title))
    server.restore_dataset()
    for graph in (g for _, g in test.graph_data):
        assert server.dataset.get(graph), f"the store lacks <{graph}>, which the test's dataset names"
    before = server.counts() if test.name.startswith("bad_") else None

    for step in test.requests:
        check_response(step, send(server, step))

    if test.name in CLEARS_ALL:
        left = server.suites_graphs(server.counts())
        assert not left, f"CLEAR ALL answered 2xx but left triples: {left}"
    if before is not None:
        assert server.counts() == before, "a request refused with 4xx changed the store"


DESTRUCTIVE = [   # (what, method, path, headers, body): each would change the suites' data if it were applied
    ("SPARQL Update, direct", "POST", "/sparql", {"Content-Type": "application/sparql-update"}, b"DROP ALL"),
    ("SPARQL Update, form", "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"},
     b"update=DROP%20ALL"),
    ("Graph Store DELETE", "DELETE", "/data?graph=http%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2Fdata1.rdf",
     {}, None),
    ("Graph Store PUT", "PUT", "/data?graph=http%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2Fdata2.rdf",
     {"Content-Type": "text/turtle"}, b"<http://example.org/s> <http://example.org/p> 1 ."),
    ("Graph Store POST (new graph)", "POST", "/data", {"Content-Type": "text/turtle"},
     b"<http://example.org/s> <http://example.org/p> 1 ."),
]


def test_writes_need_the_token(w3c_write_server):
    """On the write-enabled server: no Authorization header gets 401 with WWW-Authenticate, a wrong token
    403; either way nothing changes (triples per graph, the server's journal included)."""
    server = w3c_write_server
    server.restore_dataset()
    before = server.counts()
    assert server.suites_graphs(before) == server.dataset
    wrong = "Bearer " + "not-the-token-" + server.token[::-1]
    for what, method, path, headers, body in DESTRUCTIVE:
        response = server.anonymous.request(method, server.base + path, headers=headers, content=body)
        assert response.status_code == 401, f"{what} without a token: {response.status_code} {response.text[:300]}"
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.lower().startswith("bearer"), f"{what}: 401 without a Bearer challenge ({challenge!r})"
        assert server.counts() == before, f"{what} without a token changed the store"

        response = server.anonymous.request(method, server.base + path, headers={**headers, "Authorization": wrong},
                                            content=body)
        assert response.status_code == 403, f"{what} with a wrong token: {response.status_code} {response.text[:300]}"
        assert server.counts() == before, f"{what} with a wrong token changed the store"
