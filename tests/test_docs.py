"""The docs show what the build really writes."""

from __future__ import annotations

import re

from rdflib import Dataset

from conftest import ROOT


def test_worked_example_is_what_the_build_writes(built):
    text = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```trig\n(.*?)```", text, flags=re.S)
    assert blocks, "no TriG example in docs/data-model.md"
    dataset = Dataset()
    dataset.parse(built.dist / "statecraft.trig", format="trig")
    prefixes = "\n".join(sorted({line for block in blocks for line in block.splitlines() if line.startswith("@prefix")}))
    checked = 0
    for block in blocks:
        example = Dataset()
        example.parse(data=prefixes + "\n" + block, format="trig")
        for graph in example.graphs():
            target = dataset.graph(graph.identifier)
            for triple in graph:
                assert triple in target, (graph.identifier, triple)
                checked += 1
    assert checked > 40


def test_every_query_in_the_docs_folder_is_a_competency_query():
    names = sorted(p.name for p in (ROOT / "docs" / "queries").glob("*.rq"))
    assert len(names) == 16 and all(re.fullmatch(r"cq\d\d-[a-z0-9-]+\.rq", n) for n in names)
