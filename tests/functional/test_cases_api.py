"""The cases JSON API with personal API tokens (both engines)."""

from __future__ import annotations

from typing import Any

from casetracker.accounts.tokens import TokenService
from casetracker.auth.actor import Actor
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases_list import make_list_case


async def token_for(role: str) -> tuple[Any, str]:
    user = await make_user(role)
    created = await TokenService(Actor.from_user(user)).create("tests")
    return user, created.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_api_needs_a_valid_token(client: Any) -> None:
    user, token = await token_for("supervisor")
    response = await client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert (await client.get("/api/v1/cases", headers=bearer("ct_not-a-real-token"))
            ).status_code == 401
    assert (await client.get("/api/v1/cases", headers=bearer(token))).status_code == 200
    tokens = await TokenService(Actor.from_user(user)).list_mine()
    await TokenService(Actor.from_user(user)).revoke(tokens[0]["id"])
    assert (await client.get("/api/v1/cases", headers=bearer(token))).status_code == 401


async def test_the_session_cookie_alone_is_not_enough(browser: Any) -> None:
    await login_as(browser, "supervisor")
    assert (await browser.get("/cases")).status_code == 200  # signed in for pages
    response = await browser.get("/api/v1/cases")
    assert response.status_code == 401
    case = await make_list_case()
    response = await browser.client.post(f"/api/v1/cases/{case.id}/transitions",
                                         json={"transition": "start_triage"})
    assert response.status_code == 401


async def test_list_and_detail_follow_the_token_owners_visibility(client: Any) -> None:
    investigator, token = await token_for("investigator")
    mine = await make_list_case(status="under_investigation", lead=investigator,
                                narrative="Me pidieron los papeles en la tienda.")
    other = await make_list_case(status="under_investigation", lead=await make_user())
    response = await client.get("/api/v1/cases", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert [item["tracking_number"] for item in body["items"]] == [mine.tracking_number]
    assert body["next_cursor"] is None
    response = await client.get(f"/api/v1/cases/{mine.id}", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["narrative"] == "Me pidieron los papeles en la tienda."
    response = await client.get(f"/api/v1/cases/{other.id}", headers=bearer(token))
    assert response.status_code == 404
    assert response.json()["status_code"] == 404
    assert (await client.get("/api/v1/cases/999999", headers=bearer(token))).status_code == 404


async def test_list_filters_search_and_cursor(client: Any) -> None:
    _, token = await token_for("supervisor")
    made = [await make_list_case(status="open", narrative=f"Caso número {n} en Peñasco")
            for n in range(5)]
    await make_list_case(status="closed", narrative="Peñasco otra vez")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"state": "open", "q": "penasco", "per_page": 2,
                                  "sort": "received_desc"}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/api/v1/cases", params=params, headers=bearer(token))).json()
        seen += [item["tracking_number"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [c.tracking_number for c in reversed(made)]
    response = await client.get("/api/v1/cases", params={"state": "sideways"},
                                headers=bearer(token))
    assert response.status_code == 422
    assert "state" in response.json()["errors"]
    response = await client.get("/api/v1/cases", params={"cursor": "nonsense"},
                                headers=bearer(token))
    assert response.status_code == 422


async def test_transitions_and_findings_through_the_api(client: Any) -> None:
    _, intake_token = await token_for("intake")
    _, supervisor_token = await token_for("supervisor")
    investigator, investigator_token = await token_for("investigator")
    case = await make_list_case(status="received", allegations=[{"type": "unlawful_stop"}])
    url = f"/api/v1/cases/{case.id}/transitions"
    response = await client.post(url, json={"transition": "start_triage"},
                                 headers=bearer(intake_token))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_triage"
    # the same step again is not allowed from the new state: 409, JSON
    response = await client.post(url, json={"transition": "start_triage"},
                                 headers=bearer(intake_token))
    assert response.status_code == 409
    assert response.json()["status_code"] == 409
    # an investigator may not see a case in triage: it does not exist for them
    response = await client.post(url, json={"transition": "open"},
                                 headers=bearer(investigator_token))
    assert response.status_code == 404
    response = await client.post(url, json={"transition": "fly"}, headers=bearer(intake_token))
    assert response.status_code == 422
    response = await client.post(url, content=b"not json", headers=bearer(intake_token))
    assert response.status_code == 422
    assert (await client.post(url, json={"transition": "open"}, headers=bearer(intake_token))
            ).json()["status"] == "open"
    response = await client.post(url, json={"transition": "assign",
                                            "investigator_id": investigator.id},
                                 headers=bearer(supervisor_token))
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "under_investigation"
    assert detail["lead_investigator"]["id"] == investigator.id
    allegation_id = detail["allegations"][0]["id"]
    # the lead investigator sees the case but may not start the review: 403, JSON
    response = await client.post(url, json={"transition": "close"},
                                 headers=bearer(investigator_token))
    assert response.status_code == 403
    assert response.json()["status_code"] == 403
    response = await client.post(f"/api/v1/cases/{case.id}/findings",
                                 json={"allegation_id": allegation_id, "kind": "recommended",
                                       "finding": "sustained",
                                       "rationale": "Video shows no reason for the stop."},
                                 headers=bearer(investigator_token))
    assert response.status_code == 200, response.text
    assert response.json()["allegations"][0]["recommended_finding"] == "sustained"
    response = await client.post(f"/api/v1/cases/{case.id}/findings",
                                 json={"allegation_id": allegation_id, "kind": "recommended",
                                       "finding": "sustained", "rationale": ""},
                                 headers=bearer(investigator_token))
    assert response.status_code == 422
    assert response.json()["errors"]
