"""`/_emulator/...`: faults on command, limits, tokens and webhooks (the changes "made in
QuickBooks" by a person come in by `person_routes`). Each route is a thin shell over a plain
function taking the state, so the in-process test handle calls the very same code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from . import faults
from .cdc import KEEPS
from .clock import epoch
from .seed import DEMO_NAME, DEMO_REALM, build_company
from .state import EmulatorState
from .store import empty_state
from .tokens import revoke_grant

bp = Blueprint("qbo_control", __name__, url_prefix="/_emulator")


def state() -> EmulatorState:
    return current_app.extensions["qbo_emulator"]  # type: ignore[no-any-return]


# -- plain functions -------------------------------------------------------------------------
def fail_next(st: EmulatorState, count: int, status: int = 500) -> None:
    if status not in (500, 502, 503, 504):
        raise ValueError("status must be 500, 502, 503 or 504")
    with st.switches.lock:
        st.switches.fail_status = status
        st.switches.fail_count = count


def set_latency(st: EmulatorState, seconds: float) -> None:
    st.switches.latency = max(0.0, float(seconds))


def delay_next(st: EmulatorState, seconds: float, count: int = 1, only: str = "") -> None:
    """The next `count` calls (`only`: to that endpoint, "invoice", "batch"...) take `seconds`
    longer, holding their concurrency slot, as a request QuickBooks is slow to carry out."""
    with st.switches.lock:
        st.switches.delay_seconds = max(0.0, float(seconds))
        st.switches.delay_count = count
        st.switches.delay_only = only.lower()


def set_cdc_keeps(st: EmulatorState, keeps: str) -> str:
    """Which changes a CDC answer over its 1,000 objects keeps: "oldest" or "newest"."""
    if keeps not in KEEPS:
        raise ValueError("keeps must be oldest or newest")
    st.config.cdc_keeps = keeps
    return keeps


def reads(st: EmulatorState, used: int | None = None) -> dict[str, Any]:
    """The month's metered reads (all companies), set to `used` first if given, and the
    allowance (`set_limits(reads_per_month=...)`)."""
    return st.throttle.reads(used)


def drop_next(st: EmulatorState, count: int = 1, only: str = "") -> None:
    """Carry out the next `count` calls, then close the connection unanswered; `only` limits
    it to calls to one endpoint ("batch", "invoice"...)."""
    with st.switches.lock:
        st.switches.drop_count = count
        st.switches.drop_only = only.lower()


def set_limits(
    st: EmulatorState,
    per_minute: int | None = None,
    concurrent: int | None = None,
    batch_per_minute: int | None = None,
    reset: bool = True,
    reads_per_month: int | None | str = "",
) -> dict[str, int | None]:
    """Change the limits; `reads_per_month` None turns the monthly allowance off, "" (not
    given) leaves it as it is. `reset` clears the windows and the month's reads."""
    limits = st.throttle.limits
    if reads_per_month != "":
        limits.reads_per_month = None if reads_per_month is None else int(reads_per_month)
    if per_minute is not None:
        limits.per_minute = int(per_minute)
    if concurrent is not None:
        limits.concurrent = int(concurrent)
    if batch_per_minute is not None:
        limits.batch_per_minute = int(batch_per_minute)
    if reset:
        st.throttle.reset()
    return {
        "per_minute": limits.per_minute,
        "concurrent": limits.concurrent,
        "batch_per_minute": limits.batch_per_minute,
        "reads_per_month": limits.reads_per_month,
    }


def count_call(st: EmulatorState, method: str, path: str) -> None:
    """Count one call to the accounting API, refused ones included, as "POST batch",
    "GET query", "POST invoice"..."""
    parts = path.split("/")  # "", "v3", "company", realm, what, ...
    what = parts[4].lower() if len(parts) > 4 else ""
    with st.switches.lock:
        st.calls[f"{method} {what}"] += 1


def calls(st: EmulatorState) -> dict[str, int]:
    with st.switches.lock:
        return dict(st.calls)


def reset_calls(st: EmulatorState) -> None:
    with st.switches.lock:
        st.calls.clear()


def expire_tokens(st: EmulatorState, token: str | None = None, kind: str = "access") -> int:
    """Make one token (or every token of `kind`: access or refresh) expired right now."""
    bucket = st.store.data["oauth"]["refresh" if kind == "refresh" else "access"]
    count = 0
    with st.store.lock:
        for value, record in bucket.items():
            if token is None or value == token:
                record["expires"] = epoch() - 1
                count += 1
    st.store.save()
    return count


def configure_webhooks(st: EmulatorState, **options: Any) -> dict[str, Any]:
    config = st.config
    names = {
        "url": "webhook_url",
        "format": "webhook_format",
        "verifier_token": "verifier_token",
        "retry_scale": "retry_scale",
        "retry_schedule": "retry_schedule",
        "max_attempts": "max_webhook_attempts",
        "notify_api_changes": "notify_api_changes",
    }
    for key, value in options.items():
        if key not in names:
            raise ValueError(f"unknown webhook option {key}")
        if key == "format" and value not in ("legacy", "cloudevents"):
            raise ValueError("format must be legacy or cloudevents")
        setattr(config, names[key], value)
    return {key: getattr(config, attr) for key, attr in names.items()}


def add_company(
    st: EmulatorState,
    realm: str,
    name: str,
    country: str = "US",
    currency: str = "USD",
    demo_data: bool = False,
    multicurrency: bool = False,
) -> str:
    company = build_company(realm, name, country, currency, demo_data, multicurrency)
    st.store.add_company(realm, company)
    st.store.save()
    return realm


def reset(st: EmulatorState) -> None:
    with st.store.lock:
        st.store.data = empty_state()
        st.store.add_company(DEMO_REALM, build_company(DEMO_REALM, DEMO_NAME))
    st.throttle.reset()
    with st.switches.lock:
        st.switches.fail_count = st.switches.drop_count = 0
        st.switches.latency = 0.0
        st.switches.drop_only = ""
        st.switches.delay_count = 0
        st.calls.clear()
    st.store.save()


# -- routes ----------------------------------------------------------------------------------
def body() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


def fault_answer(fault: faults.QBOFault) -> Response:
    response = jsonify(fault.body())
    response.status_code = fault.status
    return response


@bp.before_app_request
def count_api_calls() -> None:
    if request.path.startswith("/v3/company/"):
        count_call(state(), request.method, request.path)


@bp.get("/calls")
def calls_route() -> Response:
    return jsonify(calls(state()))


@bp.post("/calls/reset")
def reset_calls_route() -> Response:
    reset_calls(state())
    return jsonify({"ok": True})


@bp.get("/health")
def health() -> Response:
    return jsonify({"ok": True, "base_url": state().base_url})


@bp.get("/state")
def dump_state() -> Response:
    return jsonify(state().store.snapshot())


@bp.post("/reset")
def reset_route() -> Response:
    reset(state())
    return jsonify({"ok": True})


@bp.post("/companies")
def company_route() -> Response:
    data = body()
    realm = add_company(
        state(),
        str(data["realm"]),
        data.get("name", "Emulated Company"),
        data.get("country", "US"),
        data.get("currency", "USD"),
        bool(data.get("demo_data", False)),
        bool(data.get("multicurrency", False)),
    )
    return jsonify({"realmId": realm})


@bp.post("/faults")
def faults_route() -> Response:
    data = body()
    fail_next(state(), int(data.get("count", 1)), int(data.get("status", 500)))
    return jsonify({"ok": True})


@bp.post("/latency")
def latency_route() -> Response:
    set_latency(state(), float(body().get("seconds", 0)))
    return jsonify({"ok": True})


@bp.post("/delay")
def delay_route() -> Response:
    data = body()
    delay_next(
        state(), float(data.get("seconds", 0)), int(data.get("count", 1)), str(data.get("only", ""))
    )
    return jsonify({"ok": True})


@bp.post("/cdc")
def cdc_route() -> Response:
    try:
        return jsonify({"keeps": set_cdc_keeps(state(), str(body().get("keeps", "")))})
    except ValueError as exc:
        return Response(str(exc), status=400)


@bp.get("/reads")
def reads_route() -> Response:
    return jsonify(reads(state()))


@bp.post("/reads")
def set_reads_route() -> Response:
    used = body().get("used")
    return jsonify(reads(state(), None if used is None else int(used)))


@bp.post("/drop")
def drop_route() -> Response:
    drop_next(state(), int(body().get("count", 1)), str(body().get("only", "")))
    return jsonify({"ok": True})


@bp.post("/limits")
def limits_route() -> Response:
    data = body()
    return jsonify(
        set_limits(
            state(),
            data.get("per_minute"),
            data.get("concurrent"),
            data.get("batch_per_minute"),
            bool(data.get("reset", True)),
            data["reads_per_month"] if "reads_per_month" in data else "",
        )
    )


@bp.post("/tokens/expire")
def expire_route() -> Response:
    data = body()
    return jsonify(
        {"expired": expire_tokens(state(), data.get("token"), data.get("kind", "access"))}
    )


@bp.post("/tokens/revoke")
def revoke_route() -> Response:
    return jsonify({"revoked": revoke_grant(state(), str(body().get("token", "")))})


@bp.post("/webhooks")
def webhooks_route() -> Response:
    return jsonify(configure_webhooks(state(), **body()))


@bp.get("/webhooks/attempts")
def attempts_route() -> Response:
    dispatcher = state().webhooks
    return jsonify(list(dispatcher.attempts) if dispatcher else [])
