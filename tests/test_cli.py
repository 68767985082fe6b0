"""The command line: validate (exit 0 / 1 / 2), coverage and docs, run as a user runs them."""

from __future__ import annotations

import re

from conftest import ROOT, SLUG, copy_project, edit, run_cli

FACTS = f"data/articles/{SLUG}/facts.ttl"


def test_validate_the_article_file_conforms():
    result = run_cli("validate", str(ROOT / FACTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^0 violation\(s\), \d+ warning\(s\) in \d+ node\(s\) of 1 file\(s\)$", result.stdout, re.M)


def test_validate_the_whole_dataset_conforms():
    result = run_cli("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 violation(s)" in result.stdout and "in the whole dataset" in result.stdout


def test_validate_reports_focus_path_severity_and_message(tmp_path):
    root = copy_project(tmp_path / "project")
    sender_and_host = "    sc:sendingState state:north-korea ;\n    sc:receivingState state:russia ;\n    sc:personnelCount 10000 ;"
    facts = edit(root, FACTS, sender_and_host, sender_and_host.replace("state:russia", "state:north-korea"))
    result = run_cli("--root", str(root), "validate", str(facts))
    assert result.returncode == 1
    line = next(l for l in result.stdout.splitlines() if "Deployment-distinctStates" in l)
    assert line.startswith("Violation") and "deployment/north-korea-to-russia-2024" in line and "—" in line
    assert re.search(r"^1 violation\(s\)", result.stdout, re.M), result.stdout


def test_validate_unusable_input_exits_2_with_line_and_column(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix sc: <https://w3id.org/statecraft/ontology#> .\n\nsc:a sc:b sc:c ;\n  sc:d .\nsc:e sc:f\n")
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    assert re.search(r"bad\.ttl:\d+:\d+: syntax error", result.stderr), result.stderr


def test_coverage_lists_only_the_reference_notes():
    result = run_cli("coverage")
    assert result.returncode == 0, result.stdout
    assert f"{SLUG}: 4 sentence(s) not covered by any evidence span" in result.stdout
    assert result.stdout.count("claim-free: reference note") == 4
    for marker in ("[1]", "[2]", "[ii]", "[iii]"):
        assert f"reference note {marker}" in result.stdout
    assert "CARRIES A CLAIM" not in result.stdout


def test_coverage_flags_a_sentence_no_record_quotes(tmp_path):
    sentence = "Seeking diplomatic support, South Korea is trying to limit and prevent North Korea in terms of external support."
    partly = copy_project(tmp_path / "partly")
    edit(partly, FACTS, f'oa:exact "{sentence}"', 'oa:exact "South Korea is trying to limit"')
    assert run_cli("--root", str(partly), "coverage").returncode == 0  # a span inside the sentence covers it
    uncovered = copy_project(tmp_path / "uncovered")
    edit(uncovered, FACTS, f'oa:exact "{sentence}"', 'oa:exact "Russia’s need for manpower"')
    result = run_cli("--root", str(uncovered), "coverage")
    assert result.returncode == 1
    assert "Seeking diplomatic support" in result.stdout and "CARRIES A CLAIM" in result.stdout


def test_docs_command_writes_the_ontology_html(tmp_path):
    result = run_cli("docs", "--out", str(tmp_path / "html"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "Statecraft ontology" in html and "Military deployment" in html
