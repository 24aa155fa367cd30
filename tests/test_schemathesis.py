"""schemathesis against our own /api/v1/openapi.json, over HTTP to the test server on loopback:
whatever the generated input, no 500, and every answer is JSON (or the PDF a letter is)."""
from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories import PASSWORD, make_case


def test_api_never_fails_badly(live_server, users):
    make_case(users["village_worker"])  # something in scope to find
    token = requests.post(f"{live_server}/api/v1/auth/token", json={"username": "koordinator",
                                                                    "password": PASSWORD}, timeout=10).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    problems, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "DELETE" and operation.path == "/api/v1/auth/token":
            continue  # revoking our own token would turn the rest into 401s; it has its own tests
        operations += 1

        @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers=headers, timeout=30)
            found = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
            kind = found[0] if isinstance(found, list) and found else str(found or "")
            if response.status_code >= 500 or (response.status_code != 204 and not (
                    kind.startswith("application/json") or kind == "application/pdf")):
                problems.append((case.method, case.path, response.status_code, kind,
                                 str(case.path_parameters)[:80], str(case.query)[:80]))
            elif 200 <= response.status_code < 300:
                try:  # a successful answer has the shape the document gives it
                    case.validate_response(response, checks=[response_schema_conformance])
                except BaseException as exc:  # noqa: BLE001 - schemathesis raises a group; collected
                    problems.append((case.method, case.path, response.status_code, "schema",
                                     " | ".join(l for l in str(exc).splitlines() if l.strip())[:600], ""))

        run()
    assert operations >= 30  # every documented call but the token revocation
    assert sorted(set(problems)) == []
