"""Structured logs: one JSON line per request, and nothing personal in it.

:class:`JsonFormatter` renders a stdlib log record as one JSON object (time,
level, logger, message and the record's ``fields`` mapping).
:func:`access_record` builds the fields of the one access line per request:
request id, method, route template (``/v1/packs/{pack_id}/evaluate``, never the
raw path), status, duration, pack, and the facts' SHA-256 when facts were read
— never the facts, the body, the query string or any header value.
:func:`configure_logging` (or uvicorn, given :func:`logging_config`) wires the
formatter to stderr for ``eligibility serve``; the app itself only uses the named loggers.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

ACCESS_LOGGER = "eligibility.api.access"
ERROR_LOGGER = "eligibility.api.error"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (see module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            # the exception's type only: a message or traceback may quote user data
            out["exc_type"] = record.exc_info[0].__name__
        return json.dumps(out, ensure_ascii=False, default=str)


def access_record(*, request_id: str, method: str, route: str, status: int,
                  duration_ms: float, pack: str | None, facts_sha256: list[str] | None,
                  ) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_ms, 3),
    }
    if pack is not None:
        fields["pack"] = pack
    if facts_sha256:
        fields["facts_sha256"] = facts_sha256[0] if len(facts_sha256) == 1 else facts_sha256
    return fields


#: The loggers ``eligibility serve`` sends to stderr as JSON lines.
SERVICE_LOGGERS = ("eligibility.api", "uvicorn", "uvicorn.error")


def logging_config(level: str = "info") -> dict[str, Any]:
    """The service's logging as a :func:`logging.config.dictConfig` mapping: the loggers
    of :data:`SERVICE_LOGGERS` to stderr as JSON lines. uvicorn applies it in every worker
    process (``log_config=``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "loggers": {name: {"handlers": ["stderr"], "level": level.upper(),
                           "propagate": False} for name in SERVICE_LOGGERS},
    }


def configure_logging(level: str = "info") -> None:
    """Send the service's loggers (and uvicorn's) to stderr as JSON lines."""
    import logging.config

    logging.config.dictConfig(logging_config(level))
