"""On a phone the case page opens with a contents list: each section one tap away; the
officer as described is labelled by part."""

from __future__ import annotations

import re

from tests.conftest import Browser, login_as
from tests.factories_cases import make_case


async def test_contents_list_links_to_every_section(browser: Browser) -> None:
    case = await make_case(status="in_triage", officers=[{
        "name": "Deputy Reyes", "badge_number": "4471", "agency_text": "Harlow sheriff",
        "rank": "Deputy", "description": "Tall, grey moustache", "vehicle": ""}])
    await login_as(browser, "supervisor")
    page = (await browser.get(f"/cases/{case.id}")).text
    nav = page.split('id="contents"')[1].split("</nav>")[0]
    targets = re.findall(r'href="#([\w-]+)"', nav)
    assert targets[:3] == ["actions", "complaint", "from-complainant"]
    for target in targets:
        assert f'id="{target}"' in page, target
    assert f'href="/cases/{case.id}/evidence"' in nav
    officers = page.split('id="officers"')[1]
    assert re.search(r"<dt>Agency \(as described\)</dt><dd>Harlow sheriff</dd>", officers)
    assert re.search(r"<dt>Description</dt><dd>Tall, grey moustache</dd>", officers)
    assert "<dt>Vehicle</dt>" not in officers.split("</article>")[0]
