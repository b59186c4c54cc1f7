"""The OpenAPI document is honest: what it says, the API does.

The app runs under uvicorn (as in production) on a database of the engine under test, with a
supervisor holding a personal API token and a few cases. schemathesis reads the served document
and, for every operation, sends a bounded number of requests generated from it (valid data,
fixed seed), checking each answer: never a 5xx, a documented status code, the documented
content type, headers and body schema."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import conftest

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 8
TOKEN = "ct_" + "openapi-conformance-test-token-0123456789abc"[:43]


def _document_is_right(schema_document: dict[str, Any]) -> None:
    paths = schema_document["paths"]
    assert schema_document["components"]["securitySchemes"]["PersonalApiToken"]["scheme"] == (
        "bearer")
    for path, item in paths.items():
        for method, operation in item.items():
            if path.startswith("/api/v1/cases"):
                assert operation["security"] == [{"PersonalApiToken": []}], (method, path)
                assert "401" in operation["responses"], (method, path)
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")) and code != "400":
                    assert "application/json" in answer["content"], (method, path, code)
    listing = paths["/api/v1/cases"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"state", "agency", "q", "sort", "per_page", "cursor", "received_from"} <= names
    per_page = next(p for p in listing["parameters"] if p["name"] == "per_page")
    assert per_page["schema"]["maximum"] == 200
    for action in ("transitions", "findings"):
        post = paths[f"/api/v1/cases/{{case_id}}/{action}"]["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"]["required"]
        assert {"409", "422", "404"} <= set(post["responses"])
    complaint = schema_document["components"]["schemas"]["ComplaintIn"]["properties"]
    assert complaint["narrative"]["maxLength"] == 7000 and complaint["narrative"]["minLength"] == 1
    assert "traffic_stop" in complaint["incident_setting"]["enum"]
    assert "TX" in complaint["incident_state"]["enum"]
    assert complaint["officers"]["maxItems"] == 10
    assert set(paths["/api/v1/complaints"]["post"]["responses"]) >= {"201", "422", "429"}


async def _prepare(settings: Any) -> None:
    from casetracker.accounts.tables import ApiToken
    from casetracker.accounts.tokens import hash_token
    from tests.factories import make_user
    from tests.factories_cases_list import make_list_case

    supervisor = await make_user("supervisor")
    await ApiToken(user=supervisor.id, name="conformance", token_prefix=TOKEN[:10],
                   token_hash=hash_token(TOKEN)).save()
    for status in ("received", "in_triage", "open", "under_investigation"):
        await make_list_case(status=status,
                             allegations=[{"type": "racial_profiling",
                                           "characteristic": "ethnicity"}])


@pytest.fixture(scope="module")
def api_server(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from casetracker import db
    from casetracker.settings import configure, load_settings
    from tests.e2e.test_intake_browser import serving

    if engine_name == "postgres":
        reason = asyncio.run(conftest._postgres_available())
        if reason:
            if conftest.REQUIRE_ALL:
                pytest.fail(reason)
            pytest.skip(reason)
    var_dir = tmp_path_factory.mktemp(f"openapi-{engine_name}")
    template = asyncio.run(conftest._template_for(engine_name))
    name = f"ct_{conftest.RUN_ID}_api_{uuid.uuid4().hex[:6]}"
    if engine_name == "sqlite":
        database_url = f"sqlite:///{var_dir / 'api.sqlite3'}"
        shutil.copyfile(template, var_dir / "api.sqlite3")
    else:
        database_url = conftest._dsn_for(name)
        asyncio.run(conftest._pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    settings = configure(load_settings().replace(database_url=database_url, var_dir=var_dir,
                                                 db_pool_max=2))

    async def prepare() -> None:
        await db.open_database(settings)
        try:
            await _prepare(settings)
        finally:
            await db.close_database()

    asyncio.run(prepare())
    env = {**os.environ, "CASETRACKER_VAR_DIR": str(var_dir),
           "CASETRACKER_DATABASE_URL": database_url, "CASETRACKER_PDF_WORKERS": "0"}
    try:
        with serving(env) as base:
            yield base
    finally:
        if engine_name == "postgres":
            asyncio.run(conftest._pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(Path(var_dir), ignore_errors=True)


def test_every_operation_answers_as_its_document_says(api_server: str) -> None:
    import requests
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    document = requests.get(f"{api_server}/api/schema/openapi.json", timeout=30).json()
    _document_is_right(document)
    schema = schemathesis.openapi.from_dict(document)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            case.call_and_validate(base_url=api_server, headers=headers, checks=checks)

        try:
            exercise()
        except Exception as exc:  # collect every operation's first failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
