"""The application factory: packs + settings in, a FastAPI (ASGI) app out.

:func:`create_app` loads the configured packs when none are given, compiles
one Engine per pack (:class:`~eligibility.api.registry.PackRegistry`), mounts the
``/v1`` routes, installs the exception handlers that turn every error into an
RFC 9457 problem, the service middleware (auth, body limit, request id, access
log), the hot path of single evaluations (:mod:`eligibility.api.hot`) and CORS,
and serves the completed OpenAPI document. Each call builds an
independent app; nothing is shared between apps. ``/docs`` (Swagger UI) and
``/redoc`` load their scripts and styles from ``/docs-assets``, served from the
files of the ``fastapi-offline`` package (part of the ``api`` extra): no CDN, so
the pages work on a network without internet.
"""

from __future__ import annotations

import gc
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from eligibility.api.hot import HotEvaluate
from eligibility.api.middleware import ServiceMiddleware, problem_for
from eligibility.api.openapi import build_openapi
from eligibility.api.problems import (
    FieldError,
    ProblemError,
    from_body_error,
    kind_for_status,
    loc_path,
    plain_value,
    problem_response,
)
from eligibility.api.registry import PackRegistry
from eligibility.api.routes import build_router
from eligibility.api.settings import Settings
from eligibility.pack.loader import load_pack
from eligibility.pack.model import RulePack
from eligibility.version import __version__
from eligibility.web.routes import mount_web


def _problem(request: Request, err: ProblemError) -> Response:
    return problem_response(problem_for(request.scope, err), err.headers)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return _problem(request, exc)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        where = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (where.get("ctx") or {}).get("error", "JSON decode error")
        return _problem(request, ProblemError(
            "malformed-json", f"the body is not valid JSON: {reason} "
            f"(at character {where['loc'][-1]})"))
    fields = [FieldError(path=loc_path(tuple(e.get("loc", ()))), message=e.get("msg", ""),
                         value=plain_value(e.get("input")) if e.get("type") != "missing"
                         else None)
              for e in errors]
    return _problem(request, ProblemError(
        "invalid-request",
        f"{len(fields)} field(s) of the request are invalid: "
        + ", ".join(f.path for f in fields), fields))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:  # the body could not be parsed
        return _problem(request, from_body_error(exc.__cause__))
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 404:
        detail = f"no route {request.url.path}; the API is under /v1 (see /docs)"
    err = ProblemError(kind_for_status(exc.status_code), detail,
                       headers=dict(exc.headers or {}))
    response = _problem(request, err)
    response.status_code = exc.status_code
    return response


ASSETS_PATH = "/docs-assets"


def docs_assets() -> Path:
    """The folder of the packaged Swagger UI and ReDoc files (from ``fastapi-offline``)."""
    return Path(str(files("fastapi_offline") / "static"))


_NO_ASSETS = ("<!DOCTYPE html><title>eligibility – API</title><p>The interactive API "
              "documentation needs the 'api' extra: <code>pip install 'eligibility[api]'"
              "</code>. The OpenAPI document is at <a href=\"/openapi.json\">/openapi.json"
              "</a>.</p>")


def _mount_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with their assets served by this app (no CDN)."""
    try:
        assets = docs_assets()
    except ModuleNotFoundError:  # fastapi installed without the extra's fastapi-offline
        async def no_assets() -> HTMLResponse:
            return HTMLResponse(_NO_ASSETS)

        for path in ("/docs", "/redoc"):
            app.add_api_route(path, no_assets, methods=["GET"], include_in_schema=False)
        return
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")

    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="eligibility – API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png")

    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json", title="eligibility – API",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False)

    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def create_app(packs: list[RulePack] | None = None,
               settings: Settings | None = None) -> FastAPI:
    """An ASGI app serving ``packs`` (default: the packs named in ``settings``)."""
    settings = settings or Settings.from_env()
    if packs is None:
        packs = [load_pack(name) for name in settings.packs]
    registry = PackRegistry(packs)
    app = FastAPI(
        title="eligibility",
        version=__version__,
        summary="Rules-as-code for Norwegian social housing measures",
        docs_url=None,
        redoc_url=None,
    )
    _mount_docs(app)
    app.include_router(build_router(registry, settings))
    mount_web(app, registry, settings)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    # inside the service middleware (limits, auth, logs apply), ahead of FastAPI: the
    # common single evaluation skips FastAPI's request machinery (api/hot.py)
    app.add_middleware(HotEvaluate, registry=registry)
    app.add_middleware(ServiceMiddleware, settings=settings, registry=registry)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Eligibility-Pack-Hash",
                           "X-Request-Id"],
            expose_headers=["X-Eligibility-Pack", "X-Eligibility-Pack-Version",
                            "X-Eligibility-Pack-Hash", "X-Eligibility-Packs",
                            "X-Request-Id"],
        )
    cached: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        if "doc" not in cached:
            cached["doc"] = build_openapi(app.routes, registry, settings, __version__)
        return cached["doc"]

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.registry = registry
    app.state.settings = settings
    return app


def serve_app() -> FastAPI:
    """:func:`create_app` for a server process of its own (``eligibility serve``): the
    loaded packs, engines and app are moved out of the garbage collector's sight
    (``gc.freeze``) once built, so a full collection during a request does not walk
    them again (they live as long as the process). Only for a process that is the
    server; a library user embedding the app calls :func:`create_app`."""
    app = create_app()
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Collect, then move every object alive now into the permanent generation."""
    gc.collect()
    gc.freeze()
