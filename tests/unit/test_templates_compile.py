"""Every template compiles (a typo in a rarely seen page fails here, not in front of a user)."""

from __future__ import annotations

import pytest

from casetracker.web.templating import TEMPLATE_DIR, _standalone_engine

TEMPLATES = sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.j2"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_compiles(name: str) -> None:
    _standalone_engine().engine.get_template(name)
