"""The W3C SPARQL 1.1 Update syntax tests (syntax-update-1, syntax-update-2 in
manifest-sparql11-update.ttl), through HTTP: a negative test must get 400, a positive one must not.

On the read-only server a well-formed update gets 403 (writes are refused), so a positive test passes
with 403 and fails with 400; the update is never applied. Syntax is judged by Oxigraph's parser
(rdflib's accepts some of the negative tests: variables in INSERT DATA, blank nodes in DELETE DATA).
"""

from __future__ import annotations

import pytest

from .manifest import missing_message, query_tests, suites_root, url_path

SUITE = "Update syntax"
ROOT = suites_root()
KINDS = ("PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11")
TESTS = [t for t in query_tests(ROOT, "manifest-sparql11-update.ttl") if t.kind in KINDS] if ROOT else []


def params():
    if ROOT is None:
        return [pytest.param(None, id="w3c-suites-missing")]
    return [pytest.param(test, id=test.iri) for test in TESTS]


@pytest.mark.parametrize("test", params())
def test_update_syntax(test, w3c_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    request.node.user_properties.append(("w3c_title", test.name))
    body = url_path(test.query).read_bytes()
    response = w3c_server.client.post(w3c_server.endpoint, content=body,
                                      headers={"Content-Type": "application/sparql-update; charset=utf-8"})
    if test.kind.startswith("Negative"):
        assert response.status_code == 400, f"a malformed update got {response.status_code}: {response.text[:300]}"
        assert "syntax" in response.text.lower() or "not valid" in response.text.lower(), response.text
    else:
        assert response.status_code == 403, f"a well-formed update got {response.status_code}: {response.text[:300]}"


def test_the_update_syntax_suite_is_there():
    assert ROOT is not None, missing_message()
    assert sum(t.kind.startswith("Negative") for t in TESTS) >= 10 and sum(t.kind.startswith("Positive") for t in TESTS) >= 30
