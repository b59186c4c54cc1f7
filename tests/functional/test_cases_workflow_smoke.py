from __future__ import annotations

from tests.conftest import Browser, login_as
from tests.factories_cases import make_case


async def test_case_page_renders_for_supervisor(browser: Browser) -> None:
    case = await make_case()
    await login_as(browser, "supervisor")
    response = await browser.get(f"/cases/{case.id}")
    assert response.status_code == 200, response.text[:3000]
    assert case.tracking_number in response.text
