"""What the OpenAPI document says about the JSON API, beside the handlers it describes.

Litestar documents what a handler's signature declares. The cases API reads its filters and its
JSON bodies itself (to answer 422 with a sentence per field, as the pages do), so those are
described here: the bearer-token scheme, query parameters, request bodies, and each error answer
with its body. ``tests/functional/test_trust_openapi.py`` holds the API to this document with
schemathesis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
    SecurityScheme,
)

__all__ = ["BEARER", "SECURITY_SCHEMES", "OpenAPIType", "Schema", "enum", "error_responses",
           "integer", "operation", "query", "string"]

BEARER_SCHEME = "PersonalApiToken"
SECURITY_SCHEMES = {BEARER_SCHEME: SecurityScheme(
    type="http", scheme="bearer",
    description="A personal API token (`ct_` + 43 characters) made at /account/tokens; it acts "
                "as its owner, with the owner's role.")}
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]


@dataclass
class ErrorBody:
    """Every error answer of the API."""

    status_code: int
    detail: str = field(metadata={"description": "A sentence saying what to do next"})


@dataclass
class ValidationErrorBody:
    """A 422 answer: what is wrong, field by field."""

    status_code: int
    detail: str
    errors: dict[str, str]


_DESCRIPTIONS = {
    401: "No valid personal API token (missing, unknown or revoked; or its owner is disabled, "
         "or must first change their password or set up two-factor sign-in). The answer "
         "carries `WWW-Authenticate: Bearer`.",
    403: "The token's owner may not do this.",
    404: "There is no such case, or the token's owner may not see it.",
    409: "The case's state does not allow this change now.",
    413: "The body is too large.",
    422: "Something sent is not valid: `errors` says what, by field.",
    429: "Too many requests from this address; try again in an hour.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """Litestar ``responses=`` for these error answers, each with its body."""
    return {code: ResponseSpec(data_container=ValidationErrorBody if code == 422 else ErrorBody,
                               description=_DESCRIPTIONS[code], generate_examples=False)
            for code in codes}


def string(description: str = "", **constraints: Any) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description or None, **constraints)


def enum(values: Sequence[str], description: str = "") -> Schema:
    return Schema(type=OpenAPIType.STRING, enum=list(values), description=description or None)


def integer(description: str = "", **constraints: Any) -> Schema:
    return Schema(type=OpenAPIType.INTEGER, description=description or None, **constraints)


def query(name: str, schema: Schema, description: str) -> Parameter:
    return Parameter(name=name, param_in="query", schema=schema, description=description,
                     required=False)


def operation(*, body: Schema | None = None, body_description: str = "",
              parameters: Sequence[Parameter] = ()) -> type[Operation]:
    """An ``operation_class`` adding a JSON request body and query parameters that the handler
    reads itself."""

    class DocumentedOperation(Operation):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if body is not None:
                self.request_body = RequestBody(
                    content={"application/json": OpenAPIMediaType(schema=body)},
                    description=body_description or None, required=True)
            if parameters:
                self.parameters = [*(self.parameters or []), *parameters]

    return DocumentedOperation
