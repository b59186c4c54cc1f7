"""Issued recommendations for every model × agreement text × action, read back with pypdf.

For each: the agency's own agreement is named and no other agency's name appears; every
provision the rules call for is quoted verbatim; every determination the action needs appears
with the person who made it and their reason, and no other determination appears; no date,
length or deadline appears unless staff entered it (and then as the office's request, with
who entered it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from casetracker.auth.actor import Actor
from casetracker.registry.tables import Agreement
from casetracker.reports import document, rules
from casetracker.reports.clauses import CLAUSES, TEMPLATE_TEXTS
from casetracker.reports.services import (
    DeterminationInput,
    DraftValues,
    RecommendationService,
    load_source,
    plan_for_record,
)
from casetracker.reports.tables import Recommendation
from casetracker.settings import configure, local_today
from tests.factories import make_user
from tests.factories_reports import (
    HELD_AGENCY_WORDS,
    WORLD_AGENCIES,
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
    make_world,
    pdf_text,
    squeezed,
)

pytestmark = pytest.mark.asyncio

SUMMARY = "The office asks ICE to act on the findings sustained in the cases below."
FORBIDDEN = ("we consider", "in this office's assessment", "within 30 days of receiving",
             "Immediate suspension pending investigation, effective", "7 days")

# (model, text year, action, variant)
COMBINATIONS = [(model, year, action, "") for (model, year) in WORLD_AGENCIES
                for action in ("revocation", "suspension", "termination")]
VARIANTS = [
    ("JEM", 2020, "revocation", "all_officers:suspension"),
    ("JEM", 2025, "revocation", "all_officers:termination"),
    ("TFM", 2025, "revocation", "all_officers:suspension"),
    ("WSO", 2025, "suspension", "exigent"),
    ("WSO", 2020, "termination", "exigent"),
    ("JEM", 2025, "termination", "suspended_agreement"),
    ("JEM", 2020, "suspension", "requests"),
    ("WSO", 2025, "termination", "requests"),
]


@pytest.fixture
async def fast(settings: Any) -> Any:
    return configure(settings.replace(pdf_workers=0))


def _text_values(rec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    values = {k: rec.get(k) for k in (
        "addressee", "sender", "subject", "grounds", "requested_action",
        "proposed_effective_on", "suspension_days", "response_instructions",
        "corrective_measures", "classification", "timing", "viii_process")}
    return {**values, "summary": SUMMARY, **extra}


@pytest.mark.parametrize(("model", "year", "action", "variant"), COMBINATIONS + VARIANTS)
async def test_issued_document_quotes_names_and_attributes(
        fast: Any, model: str, year: int, action: str, variant: str) -> None:
    reviewer = await make_user("supervisor", name="Renata Reviewer")
    author = Actor.from_user(await make_user("oversight", name="Oliver Oversight"))
    approver = Actor.from_user(await make_user("supervisor", name="Sofia Supervisor"))
    world = await make_world(model, year, final_by=reviewer.id,
                             officers=1 if variant.startswith("all_officers") else 2,
                             agreement_status=("suspended" if variant == "suspended_agreement"
                                               else "active"))
    service = RecommendationService(author)
    kind = rules.KIND_OF_ACTION[action]
    rec_id = await service.draft(DraftValues(
        kind, action, world.agreement_id if kind == "agreement" else None,
        tuple(world.designation_ids[:1]) if kind == "officers" else (),
        (world.case.case_id,)))
    rec = await Recommendation.select().where(Recommendation.id == rec_id).first()
    extra: dict[str, Any] = {}
    if variant.startswith("all_officers"):
        extra["viii_process"] = variant.split(":")[1]
    if variant == "exigent":
        extra["timing"] = "exigent"
        extra["proposed_effective_on"] = local_today() + timedelta(days=10)
    elif rec["action"] != "revocation" and model == "WSO":
        extra["timing"] = "notice_90"
    if variant == "requests":
        extra["proposed_effective_on"] = local_today() + timedelta(days=120)
        extra["response_instructions"] = "In writing to the Field Office Director."
        if action == "suspension":
            extra["suspension_days"] = 60
    plan = await plan_for_record(rec, extra)
    determinations = {key: DeterminationInput(True, f"Reason for {key}: the findings in "
                                                    f"{world.case.tracking_number}.")
                      for key in plan.determinations}
    # submitting without the determinations is refused, naming each
    if plan.determinations:
        with pytest.raises(Exception) as refused:
            await service.save_and_submit(rec_id, _text_values(rec, **extra))
        assert set(getattr(refused.value, "errors", {})) >= {
            f"determination_{k}" for k in plan.determinations}
    await service.save_and_submit(rec_id, _text_values(rec, **extra), determinations)
    await RecommendationService(approver).approve(rec_id)
    number = await service.issue(rec_id)
    _, pdf = await RecommendationService(approver).issued_document(rec_id)
    text = pdf_text(pdf)
    flat = squeezed(text)
    assert number in text
    assert "287(G)" not in text  # the statute's name keeps its small g, capitals or not

    # the agency's own agreement (agency, model, signed date, the MOA link), and no other
    # agency's name
    _, state, signed, _ = WORLD_AGENCIES[(model, year)]
    assert squeezed(f"{world.agency_name} ({state}), {model}") in flat
    assert squeezed(f"signed {signed:%B} {signed.day}, {signed.year}") in flat
    moa_url = (await Agreement.select(Agreement.moa_url).where(
        Agreement.id == world.agreement_id).first())["moa_url"]
    assert moa_url and squeezed(moa_url) in flat
    for word in HELD_AGENCY_WORDS:
        assert word not in text, word
    text_key = "JEM-2025" if model == "TFM" else f"{model}-{year}"
    assert squeezed(TEMPLATE_TEXTS[text_key].label) in flat
    if model == "TFM":
        assert squeezed("No Task Force Model agreement text is held by this office") in flat
    else:
        assert squeezed("This office does not hold the text of the agency's own agreement") \
            in flat

    # every provision the rules call for, verbatim
    quoted = [k for g in plan.groups for k in g.clauses]
    quoted += [plan.notice_intro] if plan.notice_intro else []
    quoted += [i.clause for i in plan.notice_items]
    for key in quoted:
        words = CLAUSES[key].words(text_key)
        assert squeezed(words) in flat, key
    if text_key == "WSO-2020":
        assert "[LEA]" in text

    # determinations: each one needed, with who and why; none other
    final = await plan_for_record(await Recommendation.select().where(
        Recommendation.id == rec_id).first())
    for key in rules.DETERMINATIONS:
        statement = squeezed(rules.determination_statement(key, final.agreement_action or action))
        if key in final.determinations:
            assert statement in flat, key
            assert squeezed(f"Reason for {key}") in flat
        else:
            assert statement not in flat, key
    if final.determinations:
        assert "Oliver Oversight" in text

    # no date, length or deadline unless entered
    for phrase in FORBIDDEN:
        assert squeezed(phrase) not in flat, phrase
    if "proposed_effective_on" in extra:
        assert "Requested effective date" in text
        assert squeezed("Requested by Oliver Oversight") in flat
    else:
        assert "Requested effective date" not in text
    assert ("Requested length" in text) == ("suspension_days" in extra)
    if model == "WSO" and kind == "agreement":
        expected = ("Sooner than 90 days after ICE's notice is received"
                    if variant == "exigent" else "90 days after ICE's notice is received, as "
                    "§VIII provides")
        assert squeezed(expected) in flat

    # JEM termination: ICE's own data are requested from ICE, not supplied; the sequence shown
    if final.agreement_action == "termination" and model != "WSO":
        assert squeezed("requested from ICE: these are ICE's data") in flat
        assert squeezed("Status of the agreement on record") in flat
        # the MOA sequences suspension before termination: the document says so
        assert squeezed("The agreement treats termination as a step after suspension") in flat
        assert (squeezed("It has not been suspended") in flat) == (
            variant != "suspended_agreement")
    else:
        assert squeezed("a step after suspension") not in flat
    # the findings are attributed to the person who made them
    assert squeezed("Final finding by Renata Reviewer") in flat


async def test_own_agreement_held_is_named_as_such(fast: Any) -> None:
    author = Actor.from_user(await make_user("supervisor"))
    agency = await make_agency("Waller County Sheriff's Office", "TX")
    agreement = await make_agreement(agency, "WSO", signed_on=TEMPLATE_TEXTS["WSO-2020"].held_date)
    officer, designation = await make_designated_officer(agency, agreement, "Wes Waller", "W-1")
    await make_designated_officer(agency, agreement, "Other Officer", "W-2")
    case = await make_sustained_case(agency, agreement, [officer])
    rec_id = await RecommendationService(author).draft(DraftValues(
        "officers", "revocation", None, (designation,), (case.case_id,)))
    doc = document.build(await load_source(rec_id))
    assert doc.legal_basis.own_text_held
    quotes = [q.words for g in doc.legal_basis.groups for q in g.quotes]
    assert any("participating WCSO personnel" in q for q in quotes)
    assert not any("[LEA]" in q for q in quotes)
