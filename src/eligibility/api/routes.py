"""The ``/v1`` routes: packs, schema, parameters, evaluation, batch, health.

:func:`build_router` returns an ``APIRouter`` bound to one
:class:`~eligibility.api.registry.PackRegistry` and its settings (no module
state). Evaluation is CPU-bound, so those endpoints are plain ``def`` functions
that FastAPI runs in its threadpool. Every pack-scoped route records the pack in
the request context (the middleware turns that into response headers), honours
a pinned hash from the ``X-Eligibility-Pack-Hash`` header or the body's
``pack_hash`` (409 on mismatch), and returns JSON bytes the engine's models
serialise directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import InvalidOperation
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from eligibility.api.middleware import problem_for, request_context
from eligibility.api.problems import FieldError, ProblemError, from_facts_error, loc_path
from eligibility.api.registry import PackRegistry, Served, check_pin
from eligibility.api.schemas import (
    BatchRequest,
    BatchResponse,
    BatchResult,
    EvaluateRequest,
    Health,
    PackInfo,
    PackList,
    ParametersResponse,
    Readiness,
    WhatIfRequest,
    WhyNotRequest,
    pack_info,
    pack_ref,
    parameters_at,
)
from eligibility.api.settings import Settings
from eligibility.decision import Decision
from eligibility.decision_build import Detail
from eligibility.engine import Engine
from eligibility.errors import (
    AsOfError,
    BudgetExceeded,
    EvaluationError,
    FactsError,
    PeriodError,
)
from eligibility.explain.whynot import WhyNotResult, why_not
from eligibility.limits import MAX_PERIOD_DAYS
from eligibility.options import OptionError
from eligibility.periods import PeriodResult
from eligibility.version import __version__
from eligibility.whatif import (
    ChangeError,
    WhatIfPeriodResult,
    WhatIfResult,
    what_if,
    what_if_period,
)

JSON = "application/json"
T = TypeVar("T")

PackId = Annotated[str, Path(description="The pack's id, e.g. `no`.")]
DetailQuery = Annotated[Detail, Query(
    description="`full` (default): every measure with its per-requirement reasons; "
                "`summary`: statuses, amounts, criteria, missing facts and provenance, "
                "with `reasons` left empty.")]
PinHeader = Annotated[str | None, Header(
    alias="X-Eligibility-Pack-Hash",
    description="Pin the pack's content hash; 409 if the server holds another.")]


def json_response(body: bytes | str) -> Response:
    return Response(body, media_type=JSON)


def require_json(request: Request) -> None:
    """Refuse a request body that is not JSON (415)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != JSON and not (media.startswith("application/") and media.endswith("+json")):
        raise ProblemError("unsupported-media-type",
                           f"send the body as application/json, not {media or 'no type'!r}")


def evaluate_one(engine: Engine, req: EvaluateRequest, prefix: str,
                 detail: Detail = "full") -> Decision:
    """Evaluate one request; engine errors become problems naming paths under ``prefix``."""
    refuse_period(req, "a period (from/to) is decided one household at a time, at "
                  "POST /v1/packs/{pack_id}/evaluate", prefix)
    as_of = req.as_of or date.today()
    return guarded(lambda: engine.evaluate(req.facts, as_of=as_of, lang=req.lang,
                                           detail=detail), as_of, prefix)


def period_of(req: EvaluateRequest) -> tuple[date, date]:
    """The request's ``from``/``to``; a 422 naming the one missing."""
    if req.start is None or req.end is None:
        missing = "from" if req.start is None else "to"
        raise ProblemError("invalid-request", "a period needs both from and to",
                           [FieldError(path=missing, message="required with a period")])
    return req.start, req.end


def refuse_period(req: EvaluateRequest, detail: str, prefix: str = "") -> None:
    """A 422 naming ``from``, ``to`` or ``monthly`` when a route that decides one date
    gets a period."""
    for field, given in (("from", req.start), ("to", req.end), ("monthly", req.monthly)):
        if given:
            raise ProblemError("invalid-request", detail,
                               [FieldError(path=f"{prefix}{field}",
                                           message="not accepted here")])


def evaluate_period(engine: Engine, req: EvaluateRequest, detail: Detail) -> str:
    """``from``/``to`` in the evaluate body: the periods (docs/periods.md) as JSON."""
    start, end = period_of(req)
    return guarded(lambda: engine.evaluate_period(req.facts, start, end, req.monthly,
                                                  req.lang, detail).to_json(None), start)


def guarded(work: Callable[[], T], as_of: date, prefix: str = "") -> T:
    """Run ``work``; the engine's errors become problems naming paths under ``prefix``."""
    try:
        return work()
    except FactsError as exc:
        raise from_facts_error(exc, f"{prefix}facts") from None
    except PeriodError as exc:
        raise period_problem(exc, prefix) from None
    except AsOfError as exc:
        raise ProblemError("as-of-out-of-range", str(exc),
                           [FieldError(path=f"{prefix}as_of", message=str(exc),
                                       value=as_of.isoformat())]) from None
    except EvaluationError as exc:
        raise ProblemError("evaluation-error", str(exc)) from None
    except BudgetExceeded as exc:
        raise ProblemError("budget-exceeded", str(exc)) from None
    except OptionError as exc:
        raise ProblemError("invalid-request", str(exc)) from None
    except RecursionError:
        raise ProblemError("invalid-request", "the request is nested too deeply") from None
    except (InvalidOperation, ArithmeticError) as exc:
        raise ProblemError(
            "evaluation-error",
            "a computation overflowed or was undefined for these facts "
            f"({type(exc).__name__}); check for implausibly large amounts") from None


def period_problem(exc: PeriodError, prefix: str = "") -> ProblemError:
    """A period that cannot be decided, as a 422 naming ``from`` or ``to``: outside the
    pack's period (``as-of-out-of-range``), else backwards or too long (``invalid-request``)."""
    return ProblemError("as-of-out-of-range" if exc.outside else "invalid-request", str(exc),
                        [FieldError(path=f"{prefix}{exc.field}", message=str(exc),
                                    value=exc.value)])


def _validation_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    return [FieldError(path=loc_path(tuple(e["loc"]), prefix), message=e["msg"])
            for e in exc.errors()]


def build_router(registry: PackRegistry, settings: Settings) -> APIRouter:
    """All ``/v1`` routes over ``registry`` (see module docstring)."""
    router = APIRouter(prefix="/v1")

    def served_for(request: Request, pack_id: str, *pins: str | None) -> Served:
        served = registry.get(pack_id)
        request_context(request.scope).served = served
        check_pin(served, *pins)
        return served

    @router.get("/health", response_model=Health, tags=["service"],
                summary="Liveness: the process answers")
    def health() -> Health:
        return Health(status="ok", engine_version=__version__)

    @router.get("/ready", response_model=Readiness, tags=["service"],
                summary="Readiness: every pack is loaded and compiled")
    def ready() -> Readiness:
        if not registry.all():
            raise ProblemError("not-ready", "the service holds no rule pack")
        return Readiness(status="ready", packs=[pack_ref(s.pack) for s in registry.all()])

    @router.get("/packs", response_model=PackList, tags=["packs"],
                summary="The rule packs this server holds")
    def list_packs() -> Response:
        body = PackList(packs=[pack_info(s.pack, __version__) for s in registry.all()])
        return json_response(body.model_dump_json())

    @router.get("/packs/{pack_id}", response_model=PackInfo, tags=["packs"],
                summary="One pack's metadata: version, content hash, validity, languages")
    def get_pack(request: Request, pack_id: PackId, pin: PinHeader = None) -> Response:
        served = served_for(request, pack_id, pin)
        return json_response(pack_info(served.pack, __version__).model_dump_json())

    @router.get("/packs/{pack_id}/schema", tags=["packs"],
                summary="The JSON Schema of the pack's facts",
                response_description="A JSON Schema (2020-12) document; `x-eligibility-pack` "
                "names the pack it belongs to.",
                responses={200: {"content": {JSON: {"schema": {"type": "object"}}}}})
    def get_schema(request: Request, pack_id: PackId, pin: PinHeader = None) -> Response:
        served = served_for(request, pack_id, pin)
        return json_response(json.dumps(served.facts_schema, ensure_ascii=False))

    @router.get("/packs/{pack_id}/parameters", response_model=ParametersResponse,
                tags=["packs"], summary="Every parameter's value on a date")
    def get_parameters(
        request: Request, pack_id: PackId, pin: PinHeader = None,
        as_of: Annotated[date | None, Query(
            description="The date, YYYY-MM-DD (default: today).")] = None,
    ) -> Response:
        served = served_for(request, pack_id, pin)
        when = as_of or date.today()
        if not served.pack.covers(when):
            meta = served.pack.meta
            detail = (f"{when.isoformat()} is outside the period pack {meta.id!r} covers "
                      f"(from {meta.valid_from.isoformat()})")
            raise ProblemError("as-of-out-of-range", detail,
                               [FieldError(path="query.as_of", message=detail,
                                           value=when.isoformat())])
        return json_response(parameters_at(served.pack, when).model_dump_json())

    @router.post("/packs/{pack_id}/evaluate", response_model=Decision | PeriodResult,
                 tags=["evaluation"], summary="Evaluate one household",
                 description="The Decision on `as_of`; with `from`/`to` (and `monthly`) "
                 "the periods instead (`PeriodResult`, docs/periods.md), one Decision per "
                 f"sub-period. A period is at most {MAX_PERIOD_DAYS} days (both ends "
                 "included); a longer one, one ending before it starts or one outside the "
                 "pack's period is a 422 naming `from` or `to`.",
                 dependencies=[Depends(require_json)])
    def evaluate(request: Request, pack_id: PackId, body: EvaluateRequest,
                 pin: PinHeader = None, detail: DetailQuery = "full") -> Response:
        served = served_for(request, pack_id, pin, body.pack_hash)
        if body.start is not None or body.end is not None or body.monthly:
            return json_response(evaluate_period(served.engine, body, detail))
        decision = evaluate_one(served.engine, body, "", detail)
        request_context(request.scope).facts_sha256.append(decision.provenance.facts_sha256)
        # Engine.evaluate_json's bytes: the builder keeps the JSON of parts Decisions share
        return json_response(served.engine.builder.json(decision))

    @router.post("/packs/{pack_id}/evaluate/batch", response_model=BatchResponse,
                 tags=["evaluation"], summary="Evaluate several households at once",
                 dependencies=[Depends(require_json)])
    def evaluate_batch(request: Request, pack_id: PackId, body: BatchRequest,
                       pin: PinHeader = None, detail: DetailQuery = "full") -> Response:
        served = served_for(request, pack_id, pin, body.pack_hash)
        if len(body.items) > settings.max_batch:
            raise ProblemError(
                "invalid-request",
                f"a batch holds at most {settings.max_batch} items, got {len(body.items)}",
                [FieldError(path="items", message=f"at most {settings.max_batch} items",
                            value=len(body.items))])
        ctx = request_context(request.scope)
        results: list[BatchResult] = []
        for index, item in enumerate(body.items):
            prefix = f"items[{index}]."
            try:
                try:
                    req = EvaluateRequest.model_validate(item)
                except ValidationError as exc:
                    raise ProblemError("invalid-request", "this item does not fit the API",
                                       _validation_errors(exc, f"items[{index}]")) from None
                check_pin(served, req.pack_hash)
                decision = evaluate_one(served.engine, req, prefix, detail)
            except ProblemError as err:
                results.append(BatchResult(index=index, ok=False,
                                           problem=problem_for(request.scope, err)))
                continue
            ctx.facts_sha256.append(decision.provenance.facts_sha256)
            results.append(BatchResult.model_construct(index=index, ok=True, decision=decision,
                                                       problem=None))
        ref = pack_ref(served.pack)
        out = BatchResponse.model_construct(pack_id=ref.pack_id, pack_version=ref.pack_version,
                                            content_hash=ref.content_hash, results=results)
        return json_response(out.__pydantic_serializer__.to_json(out))

    @router.post("/packs/{pack_id}/what-if",
                 response_model=WhatIfResult | WhatIfPeriodResult,
                 tags=["evaluation"], summary="What if some facts were different?",
                 description="Evaluates the household as given and with `changes` applied, "
                 "and compares the two decisions measure by measure; each decision lists "
                 "its own `confirm_before_deciding` facts when the facts carry sources. "
                 "With `from`/`to` (and `monthly`): one comparison per sub-period "
                 "(`WhatIfPeriodResult`, docs/periods.md), split wherever either side "
                 f"splits; a period is at most {MAX_PERIOD_DAYS} days.",
                 dependencies=[Depends(require_json)])
    def evaluate_what_if(request: Request, pack_id: PackId, body: WhatIfRequest,
                         pin: PinHeader = None) -> Response:
        served = served_for(request, pack_id, pin, body.pack_hash)
        as_of = body.as_of or date.today()
        engine = served.engine

        def changes_guard(work: Callable[[], T]) -> Callable[[], T]:
            def run() -> T:
                try:
                    return work()
                except ChangeError as exc:
                    raise ProblemError("invalid-request", str(exc),
                                       [FieldError(path="changes", message=str(exc))]) from None
            return run

        ctx = request_context(request.scope)
        if body.start is not None or body.end is not None or body.monthly:
            start, end = period_of(body)
            over = guarded(changes_guard(lambda: what_if_period(
                engine, body.facts, body.changes, start, end, body.monthly, body.lang,
                name=body.name)), start)
            if over.periods:
                ctx.facts_sha256.append(over.periods[0].baseline.provenance.facts_sha256)
            return json_response(over.to_json(None))
        result = guarded(changes_guard(lambda: what_if(
            engine, body.facts, body.changes, as_of, body.lang, name=body.name)), as_of)
        ctx.facts_sha256.append(result.baseline.provenance.facts_sha256)
        return json_response(result.model_dump_json())

    @router.post("/packs/{pack_id}/why-not", response_model=WhyNotResult,
                 tags=["evaluation"], summary="Why not? What would change the outcome",
                 description="For every measure the household does not get (or only "
                 "`measure_id`): the requirements that fail, and for each fact the value at "
                 "which the outcome changes. It explains one date: `from`, `to` and "
                 "`monthly` are refused (422 naming the field).",
                 dependencies=[Depends(require_json)])
    def evaluate_why_not(request: Request, pack_id: PackId, body: WhyNotRequest,
                         pin: PinHeader = None) -> Response:
        served = served_for(request, pack_id, pin, body.pack_hash)
        refuse_period(body, "why-not explains one date (`as_of`); for a period, ask per "
                      "sub-period at the dates `evaluate` with from/to returns")
        as_of = body.as_of or date.today()
        measure_id = body.measure_id
        if measure_id is not None and measure_id not in {
                m.id for m in served.pack.measures if m.in_force(as_of)}:
            detail = f"pack {pack_id!r} has no measure {measure_id!r} in force on {as_of}"
            raise ProblemError("invalid-request", detail,
                               [FieldError(path="measure_id", message=detail,
                                           value=measure_id[:200])])
        result = guarded(lambda: why_not(served.engine, body.facts, as_of, body.lang,
                                         measure_id, settings.search_budget_seconds), as_of)
        request_context(request.scope).facts_sha256.append(result.provenance.facts_sha256)
        return json_response(result.model_dump_json())

    return router

