"""The ASGI layer around every request: identity, limits, auth, headers, access log.

:class:`ServiceMiddleware` (pure ASGI, so it sees the raw byte stream) gives each
request a :class:`RequestContext` in its scope (request id, the pack it
concerned, the facts' hashes), refuses a missing or wrong bearer token (401) when
one is configured, refuses bodies over the size limit (413) before the app
reads them, adds the request id and pack headers to every response, turns any
unexpected exception into a plain 500 problem (the exception's type is logged,
never a traceback or a value), and writes one JSON access line per request.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eligibility.api.logs import ACCESS_LOGGER, ERROR_LOGGER, access_record
from eligibility.api.problems import Problem, ProblemError, build_problem
from eligibility.api.registry import PackRegistry, Served
from eligibility.api.settings import Settings
from eligibility.limits import HTTP_BODY_READ_SECONDS

SCOPE_KEY = "eligibility.request"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_OPEN_PATHS = frozenset({"/v1/health", "/v1/ready"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass
class RequestContext:
    """What one request learned on its way (per request, never shared)."""

    request_id: str
    registry: PackRegistry | None = None
    served: Served | None = None
    facts_sha256: list[str] = field(default_factory=list)
    #: whether the caller may see pack metadata (no token is set, or it sent the token)
    authenticated: bool = True


def request_context(scope: Scope) -> RequestContext:
    ctx = scope.get(SCOPE_KEY)
    if not isinstance(ctx, RequestContext):
        ctx = RequestContext(uuid.uuid4().hex)
        scope[SCOPE_KEY] = ctx
    return ctx


def problem_for(scope: Scope, err: ProblemError) -> Problem:
    """The problem body for ``err``, naming the request's pack when it is known."""
    ctx = request_context(scope)
    if not ctx.authenticated:
        return build_problem(err, scope.get("path"), ctx.request_id, None)
    if ctx.served is None and ctx.registry is not None and err.kind.slug != "unknown-pack":
        pack_id = (scope.get("path_params") or {}).get("pack_id")
        if isinstance(pack_id, str) and pack_id in ctx.registry.ids():
            ctx.served = ctx.registry.get(pack_id)
    return build_problem(err, scope.get("path"), ctx.request_id,
                         ctx.served.ident if ctx.served else None)


class _BodyTooLarge(Exception):
    pass


class ServiceMiddleware:
    """See module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings, registry: PackRegistry) -> None:
        self.app = app
        self.settings = settings
        self.registry = registry
        self.packs_header = ", ".join(
            f"{s.pack.meta.id}/{s.pack.meta.version}/{s.pack.content_hash}"
            for s in registry.all())
        self.access = logging.getLogger(ACCESS_LOGGER)
        self.errors = logging.getLogger(ERROR_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        given_id = headers.get("x-request-id", "")
        ctx = RequestContext(given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex,
                             self.registry, authenticated=self._authenticated(headers))
        scope[SCOPE_KEY] = ctx
        status = {"code": 500, "started": False}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                extra = [(b"x-request-id", ctx.request_id.encode())]
                present = {k.lower() for k, _ in message.get("headers", [])}
                if not ctx.authenticated:
                    pass  # with a token set, pack metadata only to callers that send it
                elif ctx.served is not None:
                    for name, value in ctx.served.headers().items():
                        if name.lower().encode() not in present:
                            extra.append((name.lower().encode(), value.encode()))
                else:
                    extra.append((b"x-eligibility-packs", self.packs_header.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            refusal = self._refuse(scope, headers)
            if refusal is None and scope["method"] in _BODY_METHODS:
                receive, refusal = await self._buffer(receive, headers)
            if refusal is not None:
                await self._send_problem(scope, send_wrapped, refusal)
            else:
                await self.app(scope, receive, send_wrapped)
        except Exception as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
            self.errors.error("unhandled error", extra={"fields": {
                "request_id": ctx.request_id, "exc_type": type(exc).__name__,
                "where": where}})
            if not status["started"]:
                await self._send_problem(scope, send_wrapped, ProblemError(
                    "internal-error",
                    f"the service failed unexpectedly; quote request id {ctx.request_id} "
                    "when you report it"))
        finally:
            if self.access.isEnabledFor(logging.INFO):
                self._log(scope, ctx, int(status["code"]), started)

    def _log(self, scope: Scope, ctx: RequestContext, status: int, started: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        self.access.info("request", extra={"fields": access_record(
            request_id=ctx.request_id, method=scope["method"], route=template,
            status=status, duration_ms=(time.perf_counter() - started) * 1000,
            pack=ctx.served.pack.meta.id if ctx.served else None,
            facts_sha256=ctx.facts_sha256)})

    def _authenticated(self, headers: dict[str, str]) -> bool:
        token = self.settings.api_token
        if token is None:
            return True
        scheme, _, given = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), token.encode())

    def _refuse(self, scope: Scope, headers: dict[str, str]) -> ProblemError | None:
        path = scope.get("path", "")
        if request_context(scope).authenticated or scope["method"] == "OPTIONS" \
                or path in _OPEN_PATHS or not path.startswith("/v1/"):
            return None
        return ProblemError("unauthorized",
                            "send the header 'Authorization: Bearer <token>' with the "
                            "service's API token",
                            headers={"WWW-Authenticate": 'Bearer realm="eligibility"'})

    async def _buffer(self, receive: Receive, headers: dict[str, str],
                      ) -> tuple[Receive, ProblemError | None]:
        limit = self.settings.max_body_bytes
        too_large = ProblemError(
            "body-too-large", f"the request body is larger than the limit of {limit} bytes")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return receive, too_large
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        try:
            # one deadline for the whole body (no task per message, unlike wait_for)
            async with asyncio.timeout_at(loop.time() + HTTP_BODY_READ_SECONDS):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return receive, too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return receive, ProblemError(
                "request-timeout", f"the request body did not arrive within "
                                   f"{HTTP_BODY_READ_SECONDS} seconds")
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay, None

    async def _send_problem(self, scope: Scope, send: Send, err: ProblemError) -> None:
        problem = problem_for(scope, err)
        body = problem.model_dump_json(exclude_none=True).encode()
        raw_headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
        ]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
        start: dict[str, Any] = {"type": "http.response.start", "status": problem.status,
                                 "headers": raw_headers}
        await send(start)
        await send({"type": "http.response.body", "body": body})
