"""The hot path of ``POST /v1/packs/{pack_id}/evaluate``: one valid household, few layers.

:class:`HotEvaluate` is an ASGI layer between the service middleware (auth, body
limit, request id, access log — all still applied) and FastAPI. For the common
request — a JSON body that is a valid ``EvaluateRequest`` for a served pack, no
period (``from``/``to``), no query other than ``detail`` — it parses the body once
(orjson when installed, taken only where it reads exactly what ``json.loads`` of the
UTF-8 text — FastAPI's reading — gives: no run of 19 or more digits, which orjson would
turn into a float, at most 512 brackets, so that no nesting orjson reads is one
``json.loads`` refuses as too deep, and nothing orjson refuses: NaN, infinities, lone
surrogates; else ``json.loads``), validates it with the same pydantic model,
checks the pins, evaluates and answers with the Decision's JSON bytes, skipping
FastAPI's dependency solving and its threadpool hop (a small body is evaluated on the
event loop: it is ~1 ms of CPU and the GIL would serialise a thread anyway; a large
one still goes to a worker thread so the loop keeps answering). Every other request
— malformed JSON, an invalid field, an unknown pack, a period, an unusual query or
content type — is handed to the FastAPI route unchanged, so errors keep exactly
their problem bodies and ``/openapi.json`` keeps describing the route.
Errors of the evaluation itself become the same problems the route gives
(:func:`~eligibility.api.routes.evaluate_one`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eligibility.api.middleware import problem_for, request_context
from eligibility.api.problems import ProblemError, problem_response
from eligibility.api.registry import PackRegistry, check_pin
from eligibility.api.routes import evaluate_one
from eligibility.api.schemas import EvaluateRequest
from eligibility.decision_build import Detail

#: The route this layer serves (its template, as the access log names it).
EVALUATE_TEMPLATE = "/v1/packs/{pack_id}/evaluate"
_PATH = re.compile(r"^/v1/packs/([^/]+)/evaluate$")
_QUERIES: dict[bytes, Detail] = {b"": "full", b"detail=full": "full",
                                 b"detail=summary": "summary"}
#: Bodies up to this size are evaluated on the event loop, larger ones in a thread.
INLINE_BODY_BYTES = 64 * 1024
#: 19 or more digits in a row: a number json.loads and pydantic treat as an exact
#: big integer (orjson would read one beyond 64 bits as a float); left to the FastAPI
#: route (which refuses or reads it as before). Found by mapping every digit to ``0``
#: and every other byte to a space (``bytes.translate``, ~10× faster than a regex).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"0" * 19


#: at most this many ``[`` and ``{`` in a body read by orjson: it reads 1 024 levels of
#: nesting, ``json.loads`` fewer (Python's recursion limit less the caller's stack)
ORJSON_MAX_BRACKETS = 512


def _loads_fallback(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


try:
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is part of the api extra
    _loads: Callable[[bytes], Any] = _loads_fallback
else:
    _loads = _orjson_loads


class _Template:
    """What the access log reads from ``scope["route"]``: the route's template."""

    path = EVALUATE_TEMPLATE


_ROUTE = _Template()


def _media_ok(value: bytes) -> bool:
    media = value.decode("latin-1").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


class HotEvaluate:
    """See module docstring."""

    def __init__(self, app: ASGIApp, registry: PackRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = _PATH.match(scope["path"])
        detail = _QUERIES.get(scope.get("query_string", b""))
        if match is None or detail is None or match.group(1) not in self.registry.ids():
            await self.app(scope, receive, send)
            return
        media: list[bytes] = []
        pins: list[str] = []
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                media.append(value)
            elif name == b"x-eligibility-pack-hash":
                pins.append(value.decode("latin-1"))
        if len(media) != 1 or not _media_ok(media[0]) or len(pins) > 1:
            await self.app(scope, receive, send)
            return
        body, last = await _read(receive)
        request = _request(body) if last is None else None
        if request is None:
            await self.app(scope, _replay(body, last, receive), send)
            return
        await self._evaluate(scope, receive, send, match.group(1), request,
                             pins[0] if pins else None, detail, len(body))

    async def _evaluate(self, scope: Scope, receive: Receive, send: Send, pack_id: str,
                        req: EvaluateRequest, pin: str | None, detail: Detail,
                        size: int) -> None:
        scope["route"] = _ROUTE
        served = self.registry.get(pack_id)
        ctx = request_context(scope)
        ctx.served = served
        try:
            check_pin(served, pin, req.pack_hash)
            if size <= INLINE_BODY_BYTES:
                decision = evaluate_one(served.engine, req, "", detail)
            else:
                decision = await run_in_threadpool(evaluate_one, served.engine, req, "",
                                                   detail)
        except ProblemError as err:
            await problem_response(problem_for(scope, err), err.headers)(scope, receive, send)
            return
        ctx.facts_sha256.append(decision.provenance.facts_sha256)
        out = served.engine.builder.json(decision)  # Engine.evaluate_json's bytes
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(out)).encode()),
            (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})


def parse_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, exactly as ``json.loads(body.decode("utf-8"))`` reads
    it; ``None`` when it is not one, or when orjson might read it otherwise (see
    module docstring): the route then reads and answers it."""
    if _LONG_DIGITS in body.translate(_DIGITS_AS_ZERO):
        return None
    try:
        # UTF-8 only (json.loads would also read UTF-16 and UTF-32 bytes); anything else is
        # the route's to refuse or read
        shallow = body.count(b"[") + body.count(b"{") <= ORJSON_MAX_BRACKETS
        data: Any = _loads(body) if shallow else _loads_fallback(body)
    except (ValueError, RecursionError):  # orjson's JSONDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


def _request(body: bytes) -> EvaluateRequest | None:
    """The body as a single-date evaluation request, or ``None`` to leave it to FastAPI."""
    data = parse_object(body)
    if data is None:
        return None
    try:
        req = EvaluateRequest.model_validate(data)
    except (ValidationError, RecursionError):
        return None
    if req.start is not None or req.end is not None or req.monthly:
        return None  # a period: the route's own code (docs/periods.md)
    return req


async def _read(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or what came so far and the message that was not a body part."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` again (then ``last``, then the real stream)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if last is not None:
        pending = [{"type": "http.request", "body": body, "more_body": True}, last]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
