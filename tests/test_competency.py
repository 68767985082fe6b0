"""Every competency question has a query in docs/queries/, and its answer is what the article says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ARTICLE_TEXT, ROOT, select, shared

QUERIES = ROOT / "docs" / "queries"
ID = "https://w3id.org/statecraft/id/"


def run(store, number: int) -> list[dict[str, str]]:
    (path,) = QUERIES.glob(f"cq{number:02d}-*.rq")
    return select(store, path.read_text(encoding="utf-8"))


def test_every_competency_question_has_a_query():
    questions = re.findall(r"^(\d+)\. ", (shared() / "reference" / "competency-questions.md").read_text(encoding="utf-8"),
                           flags=re.M)
    assert len(questions) == 16
    for number in map(int, questions):
        files = list(QUERIES.glob(f"cq{number:02d}-*.rq"))
        assert len(files) == 1, number
        assert files[0].read_text(encoding="utf-8").startswith(f"# Competency question {number}: ")


def test_cq01_states_and_their_wikidata_items(store):
    rows = {r["label"]: r.get("wikidata") for r in run(store, 1)}
    assert rows == {
        "South Korea": "http://www.wikidata.org/entity/Q884", "North Korea": "http://www.wikidata.org/entity/Q423",
        "Russia": "http://www.wikidata.org/entity/Q159", "Ukraine": "http://www.wikidata.org/entity/Q212",
        "United States": "http://www.wikidata.org/entity/Q30", "Poland": "http://www.wikidata.org/entity/Q36",
    }


def test_cq02_deployments_keep_the_approximate_count_and_who_reported_each_part(store):
    rows = {r["deployment"].rsplit("/", 1)[-1]: r for r in run(store, 2)}
    main = rows["north-korea-to-russia-2024"]
    assert (main["sender"], main["receiver"], main["count"], main["qualifier"], main["countAsWritten"]) == (
        "North Korea", "Russia", "10000", "nearly", "nearly 10,000")
    assert main["timeframe"] == "over the next few weeks"
    assert main["purpose"] == "to train and fight in the war in Ukraine"
    assert "United States Department of Defense: reports" in main["reportedBy"]
    assert "Western leaders: warns" in main["reportedBy"]
    kursk = rows["north-korean-units-to-kursk-2024"]
    assert kursk["region"] == "Kursk Oblast" and kursk["partOf"].endswith("north-korea-to-russia-2024")
    assert "count" not in kursk and kursk["qualifier"] == "some (unquantified)"
    assert "Sabrina Singh: states" in kursk["reportedBy"] and "Mark Rutte: confirms" in kursk["reportedBy"]
    assert "Ukrainian intelligence: reports" in kursk["reportedBy"]


def test_cq03_agreements_signed_and_planned(store):
    rows = {r["kind"]: r for r in run(store, 3)}
    partnership = rows["strategic partnership treaty"]
    assert partnership["status"] == "signed" and partnership["signed"] == "2024-06-18"
    assert set(partnership["parties"].split(", ")) == {"Russia", "North Korea"}
    assert partnership["occasion"].startswith("Vladimir Putin's visit")
    k2 = rows["arms-export contract"]
    assert (k2["status"], k2["epistemicStatus"], k2["toBeSignedBy"], k2["dateAsWritten"]) == (
        "planned, not signed", "planned", "2024", "by the end of the year")
    assert set(k2["parties"].split(", ")) == {"South Korea", "Poland"} and "signed" not in k2
    assert k2["occasion"] == "Summit of Yoon Suk Yeol and Andrzej Duda"
    assert set(rows["alliance"]["parties"].split(", ")) == {"South Korea", "United States"}


def test_cq04_statements_with_office_date_and_cited_source(store):
    rows = run(store, 4)
    kim = [r for r in rows if r["statement"].endswith("kim-soo-kyung-war-directly-affects-security-2024-10-29")]
    assert len(kim) == 1
    assert kim[0]["office"] == "Vice Minister of Unification (South Korea)" and kim[0]["date"] == "2024-10-29"
    assert kim[0]["url"] == "https://en.yna.co.kr/view/AEN20241029007300315?section=national/politics"
    assert kim[0]["accessed"] == "2024-10-29"
    joint = {r["speaker"]: r["office"] for r in rows if r["statement"].endswith("yoon-duda-condemn-north-korean-troop-dispatch")}
    assert joint == {"Yoon Suk Yeol": "President of South Korea", "Andrzej Duda": "President of Poland"}
    rutte = next(r for r in rows if r["speaker"] == "Mark Rutte")
    assert rutte["office"] == "Secretary General of NATO" and "theguardian.com" in rutte["url"]
    # the one statement the article makes without a note has no cited source
    invader = next(r for r in rows if r["statement"].endswith("south-korea-characterises-russia-as-invader"))
    assert "source" not in invader and invader["quotation"] == "invader"
    assert invader["paraphrase"] == "South Korea characterises Russia as an “invader”"
    assert all("source" in r for r in rows if r is not invader)


def test_cq05_condemnations_jointly_or_alone_and_their_grounds(store):
    rows = {r["statement"].rsplit("/", 1)[-1]: r for r in run(store, 5)}
    assert set(rows) == {"yoon-duda-condemn-north-korean-troop-dispatch", "yoon-deployment-violates-un-resolutions-and-charter"}
    joint = rows["yoon-duda-condemn-north-korean-troop-dispatch"]
    assert joint["joint"] == "true" and set(joint["speakers"].split(", ")) == {"Yoon Suk Yeol", "Andrzej Duda"}
    assert joint["grounds"] == "threat to global security"
    yoon = rows["yoon-deployment-violates-un-resolutions-and-charter"]
    assert yoon["joint"] == "false"
    assert set(yoon["grounds"].split("; ")) == {"violation of UN Security Council resolutions",
                                                "violation of the UN Charter", "threat to global security"}
    assert set(yoon["instruments"].split("; ")) == {"Charter of the United Nations", "UN Security Council resolutions"}


def test_cq06_transfers_happened_versus_possible(store):
    rows = {r["transfer"].rsplit("/", 1)[-1]: r for r in run(store, 6)}
    assert set(rows["north-korea-to-russia-artillery-and-ammunition"]["items"].split(", ")) == {"artillery", "ammunition"}
    assert rows["north-korea-to-russia-artillery-and-ammunition"]["happened"] == "true"
    assert rows["north-korea-to-russia-various-weapons"]["status"] == "alleged"
    assert rows["north-korea-to-russia-various-weapons"]["happened"] == "false"
    support = rows["russia-to-north-korea-technological-support"]
    assert support["happened"] == "true" and "missile technology" in support["items"]
    icbm = rows["russia-to-north-korea-advanced-military-technology-possible"]
    assert icbm["happened"] == "false" and icbm["status"] == "hypothetical or conditional"
    assert "intercontinental ballistic missile technology" in icbm["items"]
    assert icbm["condition"].startswith("if Russia transfers advanced military technology")
    assert len(rows) == 4


def test_cq07_south_korea_gave_humanitarian_aid_but_no_direct_military_assistance(store):
    rows = [(r["kind"], r["given"]) for r in run(store, 7)]
    assert rows == [("humanitarian aid", "true"), ("direct military assistance", "false")]


def test_cq08_sanctions_south_korea_joined(store):
    rows = run(store, 8)
    assert [(r["target"], r["joinedWith"]) for r in rows] == [("Russia", "the West")]


def test_cq09_visits_who_where_when_and_sites(store):
    rows = {r["visitor"]: r for r in run(store, 9)}
    kim = rows["Kim Jong-un"]
    assert (kim["host"], kim["date"], kim["dateAsWritten"]) == ("Russia", "2023", "in the same year")
    assert set(kim["sites"].split(", ")) == {"fighter jet factories in Russia", "naval bases in Russia"}
    assert rows["Vladimir Putin"]["date"] == "2024-06-18"


def test_cq10_who_holds_which_office(store):
    rows = {(r["person"], r["office"], r["in"]) for r in run(store, 10)}
    assert rows == {
        ("Yoon Suk Yeol", "President of South Korea", "South Korea"),
        ("Andrzej Duda", "President of Poland", "Poland"),
        ("Vladimir Putin", "President of Russia", "Russia"),
        ("Kim Soo-kyung", "Vice Minister of Unification (South Korea)", "Ministry of Unification (South Korea)"),
        ("Sabrina Singh", "Pentagon spokesperson", "United States Department of Defense"),
        ("Mark Rutte", "Secretary General of NATO", "North Atlantic Treaty Organization"),
    }


def test_cq11_every_fact_leads_to_its_exact_sentence_and_source(store):
    rows = run(store, 11)
    assert len({r["record"] for r in rows}) >= 60
    for row in rows:
        assert ARTICLE_TEXT[int(row["start"]):int(row["end"])] == row["exact"]
    deployment = [r for r in rows if r["record"] == ID + "deployment/north-korea-to-russia-2024"]
    assert deployment[0]["exact"].startswith("North Korea has sent nearly 10,000 troops to Russia")
    assert deployment[0]["url"] == "https://www.theguardian.com/world/2024/oct/29/russia-north-korean-troops-ukraine-war"


def test_cq12_author_claims_and_how_hedged(store):
    rows = {r["claim"].rsplit("/", 1)[-1]: r for r in run(store, 12)}
    assert len(rows) >= 15
    assert rows["us-aid-catalyst-for-russian-search-for-allies"]["hedges"] == "It can also be argued"
    assert rows["us-aid-catalyst-for-russian-search-for-allies"]["certainty"] == "arguable"
    assert rows["escalation-seems-inevitable"]["hedges"] == "it seems inevitable"
    assert rows["war-could-affect-europe-and-asia-pacific"]["certainty"] == "possible"
    assert rows["war-could-affect-europe-and-asia-pacific"]["hedges"] == "could"
    starts = [int(r["start"]) for r in run(store, 12)]
    assert starts == sorted(starts)


def test_cq13_sources_and_what_rests_on_each(store):
    rows = {r["marker"]: r for r in run(store, 13)}
    assert set(rows) == {"1", "2", "i", "ii", "iii"}
    assert rows["1"]["publisher"] == "The Guardian" and rows["2"]["publisher"] == "Reuters"
    for ibid in ("ii", "iii"):  # "Ibid." resolves to the Yonhap report of note [i]
        assert rows[ibid]["noteText"] == "Ibid." and rows[ibid]["source"] == rows["i"]["source"]
    assert rows["i"]["publisher"] == "Yonhap News Agency"
    assert all(r["accessed"] == "2024-10-29" for r in rows.values())
    assert int(rows["1"]["records"]) >= 8 and int(rows["2"]["records"]) >= 6
    assert "Yoon Suk Yeol: North Korea's troop deployment in Russia threatens" in rows["iii"]["restingOnIt"]


def test_cq14_what_might_happen_and_under_which_condition(store):
    rows = {r["fact"].rsplit("/", 1)[-1]: r for r in run(store, 14)}
    threat = rows["technology-transfer-threatens-korean-peninsula"]
    assert threat["condition"].startswith("if Russia transfers")
    assert threat["dependsOn"].startswith("Possible transfer of advanced military technology")
    assert threat["saidBy"] == "Kim Soo-kyung"
    assert rows["war-ends-after-us-elections"]["status"] == "speculation"
    assert rows["us-elections-clarify-power-balance"]["condition"].startswith("In this case")
    assert rows["escalation-between-north-and-south-korea"]["certainty"] == "firm"
    icbm = rows["russia-to-north-korea-advanced-military-technology-possible"]
    assert (icbm["kind"], icbm["status"]) == ("Transfer", "hypothetical or conditional")
    assert icbm["condition"].startswith("if Russia transfers") and icbm["saidBy"] == "Kim Soo-kyung"
    k2 = rows["south-korea-poland-k2-tank-export-contract"]
    assert (k2["kind"], k2["status"]) == ("Agreement", "planned") and k2["saidBy"] == "Yoon Suk Yeol"
    assert rows["south-korea-to-poland-k2-tanks-planned"]["status"] == "planned"
    # what the article reports as having happened is not among the possibilities
    assert "north-korea-to-russia-2024" not in rows and "south-korea-humanitarian-aid-to-ukraine" not in rows


def test_cq15_timeline_in_order(store):
    rows = run(store, 15)
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates) and dates[0] == "2023"
    labels = [r["label"] for r in rows]
    assert labels.index("Comprehensive Strategic Partnership Agreement (Russia–North Korea)") < \
        labels.index("Kim Soo-kyung: the Russia–Ukraine war could directly affect South Korea's security")
    assert any(r["dateAsWritten"] == "in the same year" for r in rows if "dateAsWritten" in r)


@pytest.mark.parametrize("first, stance, second", [
    ("North Korea", "aligned", "Russia"), ("Russia", "aligned", "North Korea"),
    ("South Korea", "aligned", "United States"), ("South Korea", "aligned", "Poland"),
    ("South Korea", "aligned", "North Atlantic Treaty Organization"), ("South Korea", "aligned", "European Union"),
    ("North Korea", "opposed", "United States"), ("South Korea", "opposed", "Russia"),
    ("the West", "opposed", "Russia"), ("the West", "aligned", "Ukraine"),
])
def test_cq16_alignments_and_oppositions_with_their_basis(store, first, stance, second):
    rows = [r for r in run(store, 16) if (r["first"], r["stance"], r["second"]) == (first, stance, second)]
    assert len(rows) == 1 and rows[0]["basis"]
