"""``eligibility serve``: run the HTTP service (FastAPI under uvicorn).

Loads the packs named by ``--pack`` (repeatable; default ``ELIGIBILITY_PACKS`` or
the bundled ``no`` pack), reads the service settings from the environment (see
``docs/api.md``), configures JSON logs on stderr and serves on ``--host`` and
``--port``. ``--workers N`` runs N uvicorn worker processes on one socket (each
loads the packs itself and uses up to one core: one process serves a core, since
evaluation is CPU-bound Python). HTTP is parsed by httptools with the service's
limit on a request's head (:data:`~eligibility.limits.HTTP_MAX_HEADER_BYTES`;
:mod:`eligibility.api.protocol`), or by h11 with the same limit when httptools is
not installed; the event loop is uvloop when it is installed (both in the ``api``
extra). A bad pack or setting ends with a one-paragraph message, never a traceback.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from typing import Annotated, Any

import typer

from eligibility.cli.common import app, fail, user_errors
from eligibility.limits import (
    HTTP_KEEP_ALIVE_SECONDS,
    HTTP_MAX_CONCURRENCY,
    HTTP_MAX_HEADER_BYTES,
)

#: uvicorn's ``http`` option for the bounded httptools protocol (importable in every worker)
BOUNDED_HTTPTOOLS = "eligibility.api.protocol:BoundedHttpToolsProtocol"


def http_protocol() -> str:
    """The bounded httptools protocol when httptools is installed, else uvicorn's h11."""
    return BOUNDED_HTTPTOOLS if find_spec("httptools") is not None else "h11"


@app.command()
def serve(
    pack: Annotated[list[str] | None, typer.Option(
        "--pack", "-p", metavar="PACK", help="Rule pack folder or bundled pack name; repeat "
        "to serve several (default: $ELIGIBILITY_PACKS or no).")] = None,
    host: Annotated[str, typer.Option(metavar="HOST",
                                      help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.", min=1,
                                      max=65535)] = 8000,
    log_level: Annotated[str, typer.Option(
        metavar="LEVEL", help="debug, info, warning or error.")] = "info",
    workers: Annotated[int, typer.Option(
        metavar="N", min=1, max=64, help="Worker processes; each loads the packs and uses "
        "up to one core (e.g. the number of cores).")] = 1,
) -> None:
    """Serve the rules over HTTP/JSON for case-handling systems (docs at /docs).

    \b
    Example:
      eligibility serve --port 8000   # then open http://127.0.0.1:8000/docs
      eligibility serve --workers 2   # two processes, e.g. for two cores
    """
    try:
        import fastapi_offline  # noqa: F401  (the /docs assets)
        import uvicorn

        from eligibility.api import Settings, SettingsError, create_app
        from eligibility.api.logs import logging_config
        from eligibility.api.settings import PACKS_ENV
    except ImportError:
        fail("the HTTP service needs the 'api' extra: pip install 'eligibility[api]'")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        fail(f"--log-level must be debug, info, warning or error, got {log_level!r}")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))
    from eligibility.pack.loader import load_pack

    names = tuple(pack) if pack else settings.packs
    with user_errors():
        packs = [load_pack(name) for name in names]
    try:
        service = create_app(packs, settings)
    except ValueError as exc:
        fail(str(exc))
    options: dict[str, Any] = {
        "host": host, "port": port, "log_config": logging_config(log_level),
        "access_log": False, "log_level": log_level.lower(), "server_header": False,
        "proxy_headers": True, "timeout_graceful_shutdown": 10,
        # httptools with a bound on the request head (h11 with its own bound when
        # httptools is missing); uvloop (when installed) is the faster event loop
        "http": http_protocol(), "loop": "auto",
        "h11_max_incomplete_event_size": HTTP_MAX_HEADER_BYTES,
        # slow or idle clients are let go; past the limit new connections get 503
        "timeout_keep_alive": HTTP_KEEP_ALIVE_SECONDS,
        "limit_concurrency": HTTP_MAX_CONCURRENCY,
    }
    if workers == 1:
        from eligibility.api.app import freeze_heap
        freeze_heap()  # this process is the server: its packs live as long as it does
        uvicorn.run(service, **options)
        return
    # every worker process builds its own app (create_app() from the environment): the
    # folders of the packs checked above are handed over as ELIGIBILITY_PACKS
    folders = [str(p.root.resolve()) for p in packs]
    if any("," in folder for folder in folders):
        fail("with --workers, a pack's folder cannot contain a comma: "
             + next(f for f in folders if "," in f))
    os.environ[PACKS_ENV] = ",".join(folders)
    del service
    uvicorn.run("eligibility.api.app:serve_app", factory=True, workers=workers, **options)
