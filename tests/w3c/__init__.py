"""The W3C SPARQL 1.1 test suites (Protocol, Service Description, Query), run over HTTP against the real server."""
