"""The OpenAPI document lists the error responses each API operation really gives (`make security` holds the API
to it, status by status)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def document(app):
    return app.openapi()


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/v1/teams", "post", {"201", "400", "401", "403", "413", "422"}),
        ("/api/v1/teams/{team_id}", "patch", {"200", "400", "401", "403", "404", "409", "413", "422"}),
        ("/api/v1/cases/{case_id}", "get", {"200", "401", "403", "404", "422"}),
        ("/api/v1/tokens", "post", {"200", "400", "401", "413", "422", "429"}),
        ("/api/v1/me", "get", {"200", "401"}),
    ],
)
def test_each_operation_lists_what_it_can_answer(document, path, method, expected):
    responses = document["paths"][path][method]["responses"]
    assert set(responses) == expected
    assert all(entry.get("description") for entry in responses.values())


def test_every_api_operation_documents_its_sign_in_and_bad_values(document):
    for path, operations in document["paths"].items():
        if not path.startswith("/api/") or path in ("/api/v1/tokens",):
            continue
        for method, operation in operations.items():
            responses = set(operation["responses"])
            assert "401" in responses, f"{method.upper()} {path}"
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, f"{method.upper()} {path}"


def test_every_api_operation_with_an_id_in_its_path_documents_its_404(document):
    """The id is usually read by a lookup dependency (app/<area>/lookups.py), whose 404 the operation gives too."""
    for path, operations in document["paths"].items():
        if not path.startswith("/api/") or "{" not in path or path.startswith("/api/v1/templates/"):
            continue
        for method, operation in operations.items():
            assert "404" in operation["responses"], f"{method.upper()} {path}"
