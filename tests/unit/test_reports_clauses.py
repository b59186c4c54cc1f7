"""The clause library against the agreement texts held in shared/reference/moa/.

Every quotation must be found verbatim in every text it names, inside the section it names,
after normalising what PDF extraction did to the texts (reference_texts: whitespace, mojibake,
quotation-mark styles, page headers and shuffled pages, listed OCR misreadings)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from casetracker.reports import reference_texts, rules
from casetracker.reports.clauses import CLAUSES, ELLIPSIS, LEA, TEMPLATE_TEXTS, Clause
from casetracker.settings import PROJECT_ROOT

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "moa"

needs_texts = pytest.mark.skipif(not REFERENCE.is_dir(),
                                 reason=f"the reference texts are not at {REFERENCE}")


@needs_texts
def test_every_quotation_is_in_its_texts_and_section() -> None:
    problems = reference_texts.verify_library(REFERENCE)
    assert problems == [], "\n".join(map(str, problems))


def _altered(item: Clause, quotation: str) -> dict[str, Clause]:
    return {item.key: dataclasses.replace(item, quotation=quotation)}


@needs_texts
@pytest.mark.parametrize(("key", "change"), [
    # the example: "examples" for "examples of egregious criminal aliens"
    ("jem.termination_notice.3", lambda q: q.replace("Examples of egregious", "Examples of")),
    ("jem.revocation", lambda q: q.replace("at any time", "at any time, with notice,")),
    ("wso.ice_notice_effect", lambda q: q.replace("90-days", "30 days")),
    ("wso.withdrawal", lambda q: q.replace("for any reason", "for cause")),
    ("authority", lambda q: q + " It also requires ICE to supervise."),
    ("jem.suspension_notice.2", lambda q: q.replace("temporary", "")),
])
def test_an_altered_quotation_fails(key: str, change: object) -> None:
    item = CLAUSES[key]
    altered = change(item.quotation)  # type: ignore[operator]
    assert altered != item.quotation
    problems = reference_texts.verify_library(REFERENCE, _altered(item, altered))
    assert problems and all(p.clause == key for p in problems)
    assert len(problems) == len(item.texts)  # it fails in every text it names


def _one_word_changed(quotation: str) -> str:
    """The quotation with one word in its middle changed (a word of at least four letters)."""
    words = quotation.split(" ")
    candidates = [i for i, w in enumerate(words) if re.fullmatch(r"[A-Za-z]{4,}[,.;:]?", w)]
    index = candidates[len(candidates) // 2]
    words[index] = "not" + words[index]
    return " ".join(words)


@needs_texts
@pytest.mark.parametrize("key", sorted(CLAUSES))
def test_every_clause_fails_when_one_word_is_changed(key: str) -> None:
    item = CLAUSES[key]
    altered = _one_word_changed(item.quotation)
    problems = reference_texts.verify_library(REFERENCE, _altered(item, altered))
    assert [p.clause for p in problems] == [key] * len(item.texts), altered


@needs_texts
def test_a_wrong_section_fails() -> None:
    item = CLAUSES["jem.termination_notice"]
    problems = reference_texts.verify_library(
        REFERENCE, {item.key: dataclasses.replace(item, section="§IV.D")})
    assert problems and "found in §VIII, not in §IV.D" in problems[0].message
    wso = CLAUSES["wso2020.interim_action"]
    problems = reference_texts.verify_library(
        REFERENCE, {wso.key: dataclasses.replace(wso, texts=("WSO-2025",))})
    assert problems  # ¶3.B is not in the 2025 WSO text


@needs_texts
def test_normalisation_undoes_extraction_artefacts_only() -> None:
    grayson = reference_texts.load_text("JEM-2025", REFERENCE)
    # "ICEÂ\x92s" (mojibake), "LEAcan pr ovide" (split words), a page header mid-sentence
    assert "ICE'sdecisiontoterminateaMOA" in grayson
    assert "(2)thelengthofthetemporarysuspension" in grayson
    assert "Revised02/15/2025" not in grayson
    hardee = reference_texts.load_text("WSO-2025", REFERENCE)
    # shuffled pages put back in order: §IV.D's heading comes before its withdrawal sentence
    assert hardee.index("D.CERTIFICATIONANDAUTHORIZATION") < hardee.index(
        "Authorizationofparticipating")
    # nothing else is changed: a different word is still different
    assert "Examplesofcriminalaliens" not in grayson


def test_every_clause_is_complete() -> None:
    for item in CLAUSES.values():
        assert item.texts and all(t in TEMPLATE_TEXTS for t in item.texts), item.key
        assert item.section and item.heading, item.key
        assert item.quotation.strip() == item.quotation, item.key
        assert item.paraphrase and item.paraphrase != item.quotation, item.key
        # a quotation is the agreement's words: no paraphrase markers inside it
        assert "[" not in item.quotation.replace(LEA, ""), item.key
        assert ELLIPSIS not in item.paraphrase


def test_rules_cite_only_clauses_in_the_library() -> None:
    for model in rules.MODELS:
        for signed in (None, rules.MOA_2025_FROM):
            for action in rules.KIND_OF_ACTION:
                for viii in ("suspension", "termination"):
                    for timing in ("notice_90", "exigent"):
                        plan = rules.plan_for(model, signed, "", action, officers_named=2,
                                              others_active=0, viii_process=viii,
                                              timing=timing)
                        keys = [k for g in plan.groups for k in g.clauses]
                        keys += [plan.notice_intro] if plan.notice_intro else []
                        keys += [i.clause for i in plan.notice_items]
                        for key in keys:
                            assert key in CLAUSES, key
                            assert plan.text.text_key in CLAUSES[key].texts, (key, plan.text)
    for rule in rules.DETERMINATIONS.values():
        assert rule.clause in CLAUSES


def test_docs_list_every_clause_with_its_source() -> None:
    docs = (PROJECT_ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    for item in CLAUSES.values():
        assert f"`{item.key}`" in docs, item.key
    for rule in rules.DETERMINATIONS.values():
        assert f"`{rule.key}`" in docs, rule.key
    for text in TEMPLATE_TEXTS.values():
        assert text.reference_file in docs


def test_quotations_print_lea_or_brackets() -> None:
    item = CLAUSES["wso.withdrawal"]
    assert "participating [LEA] personnel" in item.words("WSO-2020")
    assert "participating WCSO personnel" in item.words("WSO-2020", own_text=True)
    assert "participating LEA personnel" in item.words("WSO-2025")
    assert not re.search(r"\{LEA\}", item.words("WSO-2025"))
