"""Schemathesis on the OpenAPI document: generated requests (valid and invalid ones) to
every operation, a few examples each, every answer checked against the document: no 5xx,
documented status codes and content types, bodies matching their schemas."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db

EXAMPLES = 5


@pytest.mark.parametrize("caller", ["visitor", "admin with a token"])
def test_the_api_keeps_to_its_document(app, admin, caller):
    headers = {}
    if caller != "visitor":
        _, secret = create_api_token(admin, "Schemathesis")
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                case.call_and_validate(headers=headers)

            try:
                run()
            except Unsatisfiable:
                # No parameter and no body (GET /api/v1/labels): nothing invalid to send.
                if mode is not GenerationMode.NEGATIVE:
                    raise
            except Exception as error:  # noqa: BLE001 - collected, reported together
                failures.append(f"{operation.label} ({mode.value}): {error}"[:1500])
    assert not failures, "\n\n".join(failures)
