"""Schemathesis against a real ``hub serve``, driven by the hub's own OpenAPI document.

Every operation the document lists is called with what the document allows (positive cases)
and with what it forbids (negative cases): its examples, the boundary values of each bound it
states (Schemathesis' coverage phase), then random cases, a bounded number of each. No answer
may be a 5xx; and, as a correct hub answers, each is JSON, with a status and a body the
document lists. Afterwards plain events are still delivered, and so is every event the
fuzzing got accepted: nothing a host sent poisoned the queue.

(Schemathesis leaves out the operation its document was loaded from, GET /api/v1/openapi.json,
by design: that one answered before the first case was made.)"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import API_KEY
from tests.fuzz.conftest import AUTH, SINK, Served
from tests.samples import HOOKS, event

pytestmark = pytest.mark.slow

# Random cases per operation, positive and negative together; the examples and the coverage
# phase's boundary values come on top.
MAX_EXAMPLES = 150


@schemathesis.check
def a_refusal_names_each_field(ctx: Any, response: Any, case: Any) -> None:
    """A 422 lists every problem, each naming its field (``data.lines[0].unit_price``)."""
    if response.status_code != 422:
        return
    errors = response.json().get("errors")
    if not errors or not all(isinstance(e, dict) and isinstance(e.get("field"), str)
                             and e["field"] and e.get("message") for e in errors):
        raise AssertionError(f"a 422 that does not name each field: {response.text[:1000]}")


# Each holds for a correct hub: no 5xx, ever; every answer under /api/v1 is JSON (the README
# says so, errors included); its status and its body are the ones the document lists; a 422
# names each field.
CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance,
          response_schema_conformance, a_refusal_names_each_field]
# Ids of the events the fuzzing got accepted, for the test after it.
accepted: list[str] = []


@pytest.fixture(scope="module")
def api_schema(hub_serve: Served) -> Any:
    config = schemathesis.Config()
    config.projects.default.update(base_url=hub_serve.url, headers=AUTH)
    # The key in a failure's curl command is the tests' own, and the point is to replay it.
    config.output.sanitization.update(enabled=False)
    config.projects.default.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        # The bearer scheme is ours to fill in, not Schemathesis' to fuzz: a wrong key is a
        # 401 before anything is read (tests/test_events_api.py has those).
        with_security_parameters=False,
        # No replay of an earlier run's failures first: each run stands alone, and in CI
        # (Hypothesis' ci profile) the same cases run every time.
        database="none",
    )
    return schemathesis.openapi.from_url(f"{hub_serve.url}/api/v1/openapi.json", config=config,
                                         headers=AUTH, timeout=10)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # Schemathesis 4.32.5 renames the running test through ``node._nodeid``, which pytest 9.2
    # no longer has (node ids became structured): give it one to write, or it fails first.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_is_answered_with_a_server_error(case: Any, hub_serve: Served) -> None:
    logged = hub_serve.log_size()
    response = case.call(headers=AUTH)
    if response.status_code == 202 and case.path == "/api/v1/events":
        accepted.append(response.json()["id"])
    try:
        case.validate_response(response, checks=CHECKS, headers=AUTH)
    except FailureGroup as failure:
        # Schemathesis' report (the answer, and a curl command that reproduces it) and what
        # the hub logged meanwhile: a 5xx's traceback.
        raise AssertionError(f"{failure}\n\nThe hub logged meanwhile:\n"
                             f"{hub_serve.log_since(logged) or '(nothing)'}") from None


def test_after_the_fuzzing_plain_events_and_every_accepted_one_are_delivered(
    hub_serve: Served,
) -> None:
    # Runs after the fuzzing (same module, in file order), on the same process and database:
    # one plain event of each type, as a host sends them, each delivered.
    plain = {f"evt_after_fuzzing_{t}": t for t in HOOKS}
    for event_id, event_type in plain.items():
        answer = hub_serve.post(event(event_type, event_id=event_id))
        assert answer.status_code == 202, answer.text
    for event_id, event_type in plain.items():
        view = hub_serve.wait_done(event_id)
        assert SINK in [d["plugin"] for d in view["deliveries"] if d["status"] == "done"]
        assert f"{HOOKS[event_type]} {event_id!r}" in hub_serve.sink_lines()
    # And every event the fuzzing got accepted.
    for event_id in accepted:
        hub_serve.wait_done(event_id)
    # Each reached the sink once; nothing refused reached it at all.
    sunk = [line.split(" ", 1)[1] for line in hub_serve.sink_lines()]
    assert sorted(sunk) == sorted(map(repr, [*accepted, *plain]))
    assert API_KEY not in hub_serve.log.read_text()  # no secret in the log
