"""The four "Wrong today" examples of issue 16, each as an issued document read back with pypdf.

1. A Montgomery County JEM agreement's legal basis presented the held reference text (Galveston
   County's) as the agency's own agreement.
2. A WSO "Immediate suspension pending investigation", effective in 7 days, whose summary
   declared exigent circumstances on its own.
3. A JEM termination notice that shortened the MOA's required contents to "examples", recast
   them as the grounds, and left out that termination follows suspension.
4. A response deadline "within 30 days of receiving the notice" proposed by default.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from casetracker.auth.actor import Actor
from casetracker.errors import ValidationFailed
from casetracker.reports import rules
from casetracker.reports.clauses import CLAUSES
from casetracker.reports.services import (
    EDITABLE,
    DeterminationInput,
    DraftValues,
    RecommendationService,
    load_source,
)
from casetracker.settings import configure, local_today
from tests.factories import make_user
from tests.factories_reports import (
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
    pdf_text,
    squeezed,
)

pytestmark = pytest.mark.asyncio

SUMMARY = "The office asks ICE to act on the sustained findings set out below."


@pytest.fixture
async def fast(settings: Any) -> Any:
    return configure(settings.replace(pdf_workers=0))


async def _world(name: str, state: str, model: str, signed_on: date) -> dict[str, Any]:
    agency = await make_agency(name, state)
    agreement = await make_agreement(agency, model, signed_on=signed_on)
    officer, designation = await make_designated_officer(agency, agreement, "Dana Deputy", "D-7")
    await make_designated_officer(agency, agreement, "Peer Deputy", "D-8")
    case = await make_sustained_case(agency, agreement, [officer], evidence_count=1)
    return {"agreement": agreement, "designation": designation, "case": case}


async def _draft(author: Actor, world: dict[str, Any], kind: str, action: str) -> int:
    return await RecommendationService(author).draft(DraftValues(
        kind, action, world["agreement"] if kind == "agreement" else None,
        (world["designation"],) if kind == "officers" else (), (world["case"].case_id,)))


async def _values(rec_id: int, **changes: Any) -> dict[str, Any]:
    rec = (await load_source(rec_id)).recommendation
    return {**{k: rec[k] for k in EDITABLE}, "summary": SUMMARY, **changes}


async def _issue(author: Actor, rec_id: int, values: dict[str, Any],
                 determinations: dict[str, DeterminationInput] | None = None) -> str:
    await RecommendationService(author).save_and_submit(rec_id, values, determinations)
    approver = Actor.from_user(await make_user("supervisor", name="Abel Approver"))
    await RecommendationService(approver).approve(rec_id)
    await RecommendationService(author).issue(rec_id)
    _, pdf = await RecommendationService(approver).issued_document(rec_id)
    return pdf_text(pdf)


async def test_1_the_agencys_own_agreement_not_the_reference_text(fast: Any) -> None:
    author = Actor.from_user(await make_user("supervisor", name="Sam Staff"))
    world = await _world("Montgomery County Sheriff's Office", "TX", "JEM", date(2020, 9, 14))
    rec_id = await _draft(author, world, "officers", "revocation")
    text = await _issue(author, rec_id, await _values(rec_id))
    flat = squeezed(text)
    # the agency's own agreement: agency, model, signed date, the MOA link from ICE's list
    assert squeezed("Montgomery County Sheriff's Office (TX), JEM") in flat
    assert squeezed("signed September 14, 2020") in flat
    assert "https://www.ice.gov/doclib/287gMOA/jem-" in text
    # the published template it follows, and that the agreement's own text is not held
    assert squeezed("the 2020 JEM template text, as published by ICE") in flat
    assert squeezed("This office does not hold the text of the agency's own agreement") in flat
    # the reference copy is never presented as the agency's agreement, nor named at all
    for wrong in ("Galveston", "JEM MOA, Galveston County TX, 2020-06-08", "2020-06-08",
                  "June 8, 2020"):
        assert squeezed(wrong) not in flat, wrong


async def test_2_wso_suspension_has_no_pending_investigation_and_no_unmade_exigency(
        fast: Any) -> None:
    author = Actor.from_user(await make_user("supervisor", name="Sam Staff"))
    world = await _world("Polk County Sheriff's Office", "FL", "WSO", date(2025, 4, 9))
    rec_id = await _draft(author, world, "agreement", "suspension")
    service = RecommendationService(author)
    in_7_days = local_today() + timedelta(days=7)
    # effective in 7 days on the 90-day notice: refused, pointing at the exigency determination
    with pytest.raises(ValidationFailed) as refused:
        await service.update(rec_id, await _values(rec_id, timing="notice_90",
                                                   proposed_effective_on=in_7_days))
    assert "exigent circumstances involving public safety" in \
        refused.value.errors["proposed_effective_on"]
    # sooner than 90 days, with no one recording the exigency: submitting is refused
    exigent = await _values(rec_id, timing="exigent", proposed_effective_on=in_7_days,
                            summary="We consider that exigent circumstances exist.")
    with pytest.raises(ValidationFailed) as refused:
        await service.save_and_submit(rec_id, exigent)
    assert "determination_exigent_public_safety" in refused.value.errors
    # on the 90-day notice the document asserts no exigency and no suspension pending
    # investigation (a JEM-only provision)
    text = await _issue(author, rec_id, await _values(rec_id, timing="notice_90"))
    flat = squeezed(text)
    assert squeezed("Suspension of the agreement on 90 days' written notice (§VIII)") in flat
    assert squeezed(CLAUSES["wso.notice"].words("WSO-2025")) in flat
    for wrong in ("pending investigation", "Immediate suspension",
                  rules.determination_statement("exigent_public_safety", "suspension"),
                  "Sooner than 90 days", "we consider", "Requested effective date"):
        assert squeezed(wrong).lower() not in flat.lower(), wrong
    assert squeezed("90 days after ICE's notice is received, as §VIII provides") in flat


async def test_2b_an_exigency_appears_only_as_a_named_persons_determination(fast: Any) -> None:
    author = Actor.from_user(await make_user("supervisor", name="Sam Staff"))
    world = await _world("Lee County Sheriff's Office", "FL", "WSO", date(2020, 5, 20))
    rec_id = await _draft(author, world, "agreement", "suspension")
    values = await _values(rec_id, timing="exigent",
                           proposed_effective_on=local_today() + timedelta(days=7))
    reason = "EXIGENCY-REASON: two further stops this month at the same checkpoint."
    text = await _issue(author, rec_id, values,
                        {"exigent_public_safety": DeterminationInput(True, reason)})
    flat = squeezed(text)
    statement = rules.determination_statement("exigent_public_safety", "suspension")
    assert squeezed("Determination by Sam Staff (Supervisor)") in flat
    assert squeezed(statement) in flat and squeezed(reason) in flat
    assert "pending investigation" not in text
    assert squeezed("Requested by Sam Staff") in flat  # the date is the office's request


async def test_3_jem_termination_quotes_the_notice_contents_and_the_sequence(fast: Any) -> None:
    author = Actor.from_user(await make_user("supervisor", name="Sam Staff"))
    world = await _world("Brazos County Sheriff's Office", "TX", "JEM", date(2025, 3, 3))
    rec_id = await _draft(author, world, "agreement", "termination")
    determinations = {key: DeterminationInput(True, f"REASON-{key}")
                      for key in ("unresolvable", "termination_before_suspension")}
    text = await _issue(author, rec_id, await _values(rec_id), determinations)
    flat = squeezed(text)
    # the section's heading (printed in capitals)
    notice = flat.lower().index(squeezed("The notice the agreement requires").lower())
    for key in ("jem.termination_notice", "jem.termination_notice.1",
                "jem.termination_notice.2", "jem.termination_notice.3"):
        words = squeezed(CLAUSES[key].words("JEM-2025"))
        assert words in flat, key
        # quoted in full in the notice section, not recast as grounds before it
        assert flat.index(words) > notice, key
    assert flat.count(squeezed("requested from ICE: these are ICE's data")) == 2
    assert squeezed("Examples of egregious criminal aliens") not in flat[:notice]
    # the MOA's sequence: termination after suspension, and this agreement is not suspended
    assert squeezed("The agreement treats termination as a step after suspension") in flat
    assert squeezed("It has not been suspended") in flat
    assert squeezed(rules.determination_statement("termination_before_suspension",
                                                  "termination")) in flat
    assert "REASON-termination_before_suspension" in text


async def test_4_no_response_deadline_unless_staff_enter_one(fast: Any) -> None:
    author = Actor.from_user(await make_user("supervisor", name="Sam Staff"))
    world = await _world("Montgomery County Sheriff's Office", "TX", "JEM", date(2020, 9, 14))
    rec_id = await _draft(author, world, "agreement", "suspension")
    rec = (await load_source(rec_id)).recommendation
    assert rec["response_instructions"] == "" and rec["proposed_effective_on"] is None
    text = await _issue(author, rec_id, await _values(rec_id), {
        "serious_misconduct": DeterminationInput(True, "Three sustained profiling stops.")})
    flat = squeezed(text)
    for wrong in ("within 30 days", "30 days of receiving", "days of receiving the notice",
                  "Requested effective date", "How the agency may respond"):
        assert squeezed(wrong) not in flat, wrong
    # the MOA's item (3) is left for ICE to set, not filled with a deadline of ours
    assert squeezed(CLAUSES["jem.suspension_notice.3"].words("JEM-2020")) in flat
    assert flat.count(squeezed("for ICE to set in its notice")) == 2  # items (2) and (3)
    assert squeezed("No request of this office as to dates, length, the agency's response or "
                    "corrective measures was entered") in flat
