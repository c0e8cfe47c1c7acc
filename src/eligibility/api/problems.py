"""Errors as RFC 9457 problem details (``application/problem+json``).

This module owns every error body the service sends: the :class:`Problem` and
:class:`FieldError` models (documented in the OpenAPI), the catalogue of problem
types with their status and titles in English and bokmål (:data:`KINDS`), the
:class:`ProblemError` exception routes raise, converters from the engine's own
errors (:func:`from_facts_error` etc.), and :func:`problem_response`. A problem
names the path of every invalid field; it never carries a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from eligibility.errors import FactIssue, FactsError
from eligibility.limits import MAX_FACTS_DEPTH

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:eligibility:problem:"


@dataclass(frozen=True)
class Kind:
    """One problem type: its slug, HTTP status and title in English and bokmål."""

    slug: str
    status: int
    en: str
    nb: str


KINDS: dict[str, Kind] = {k.slug: k for k in (
    Kind("malformed-json", 400, "The request body is not valid JSON",
         "Forespørselen er ikke gyldig JSON"),
    Kind("body-too-deep", 400, "The request body is nested too deeply",
         "Forespørselen er nøstet for dypt"),
    Kind("invalid-request", 422, "The request does not fit the API",
         "Forespørselen passer ikke med API-et"),
    Kind("invalid-facts", 422, "The facts do not fit the pack's schema",
         "Opplysningene passer ikke med regelpakkens skjema"),
    Kind("as-of-out-of-range", 422, "The date is outside the period the pack covers",
         "Datoen er utenfor perioden regelpakken dekker"),
    Kind("budget-exceeded", 422, "The search reached its time budget",
         "Søket nådde tidsgrensen sin"),
    Kind("evaluation-error", 422, "The rules cannot be computed for these facts",
         "Reglene kan ikke beregnes for disse opplysningene"),
    Kind("unauthorized", 401, "A valid bearer token is required",
         "Et gyldig tilgangstoken kreves"),
    Kind("not-found", 404, "No such resource", "Ressursen finnes ikke"),
    Kind("unknown-pack", 404, "No such rule pack on this server",
         "Regelpakken finnes ikke på denne serveren"),
    Kind("method-not-allowed", 405, "Method not allowed", "Metoden er ikke tillatt"),
    Kind("not-acceptable", 406, "Not acceptable", "Ikke akseptabelt"),
    Kind("request-timeout", 408, "The request body arrived too slowly",
         "Forespørselen kom for sakte"),
    Kind("pack-hash-conflict", 409, "The server holds another version of the pack",
         "Serveren har en annen versjon av regelpakken"),
    Kind("body-too-large", 413, "The request body is too large",
         "Forespørselen er for stor"),
    Kind("unsupported-media-type", 415, "The request body must be application/json",
         "Forespørselen må være application/json"),
    Kind("header-too-large", 431, "The request line and headers are too large",
         "Forespørselens linje og hoder er for store"),
    Kind("not-ready", 503, "The service is not ready", "Tjenesten er ikke klar"),
    Kind("internal-error", 500, "Internal error", "Intern feil"),
)}

_BY_STATUS = {400: "malformed-json", 404: "not-found", 405: "method-not-allowed",
              406: "not-acceptable", 413: "body-too-large", 415: "unsupported-media-type",
              401: "unauthorized"}


class FieldError(BaseModel):
    """One invalid field: its path in the request body and what is wrong."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="Where the field is, e.g. `facts.members[1].age`.")
    message: str
    expected: str | None = None
    value: str | int | float | bool | None = Field(
        None, description="The value seen, when it is a plain value.")


class Problem(BaseModel):
    """An RFC 9457 problem; extension members name the pack and every bad field."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="A URN naming the kind of problem (see docs/api.md).")
    title: str
    title_nb: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = []
    pack_id: str | None = None
    pack_version: str | None = None
    content_hash: str | None = None
    request_id: str | None = None


class ProblemError(Exception):
    """Raised by routes to answer with a problem; ``detail`` is one paragraph."""

    def __init__(self, slug: str, detail: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.kind = KINDS[slug]
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def from_body_error(cause: BaseException | None) -> ProblemError:
    """The problem for a body the framework could not parse (its plain HTTP 400), from
    the exception that stopped the parser: nesting deeper than the JSON parser reads
    (a ``RecursionError``), bytes that are not UTF-8, or anything else."""
    if isinstance(cause, RecursionError):
        return ProblemError(
            "body-too-deep", "the body nests JSON objects and lists too deeply to be read; "
            f"facts may nest at most {MAX_FACTS_DEPTH} levels (MAX_FACTS_DEPTH) and no "
            "request needs more (docs/limits.md)")
    if isinstance(cause, UnicodeDecodeError):
        return ProblemError("malformed-json", f"the body is not valid JSON: not UTF-8 "
                                              f"({cause.reason} at byte {cause.start})")
    return ProblemError("malformed-json", "the body could not be read as JSON")


def kind_for_status(status: int) -> str:
    """The problem slug for a plain HTTP status raised by the framework."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return "internal-error" if status >= 500 else "invalid-request"


def plain_value(value: Any) -> str | int | float | bool | None:
    """A value safe and short enough to echo back in an error; else ``None``."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    return None


def loc_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    """A validation location as a path: ``("body", "facts", "members", 1)`` → ``facts.members[1]``.

    Body locations drop ``body``; other locations keep theirs (``query.as_of``).
    """
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(body)"


def field_errors_from_facts(issues: list[FactIssue], prefix: str = "facts") -> list[FieldError]:
    """The engine's fact issues as field errors under ``prefix``."""
    out = []
    for issue in issues:
        path = issue.path
        full = prefix if path == "(facts)" else ".".join(p for p in (prefix, path) if p)
        out.append(FieldError(path=full, message=issue.message, expected=issue.expected,
                              value=plain_value(issue.value)))
    return out


def from_facts_error(exc: FactsError, prefix: str = "facts") -> ProblemError:
    errors = field_errors_from_facts(exc.issues, prefix)
    return ProblemError(
        "invalid-facts",
        f"{len(errors)} field(s) of the facts do not fit the pack's schema: "
        + ", ".join(e.path for e in errors),
        errors,
    )


def _text(text: str) -> str:
    """``text`` as valid Unicode (a lone surrogate from the request becomes '?')."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def _clean(error: FieldError) -> FieldError:
    value = _text(error.value) if isinstance(error.value, str) else error.value
    if isinstance(value, float) and (value != value or value in (float("inf"), -float("inf"))):
        value = str(value)
    return FieldError(path=_text(error.path), message=_text(error.message),
                      expected=_text(error.expected) if error.expected else None, value=value)


def build_problem(err: ProblemError, instance: str | None, request_id: str | None,
                  pack: tuple[str, str, str] | None = None) -> Problem:
    kind = err.kind
    return Problem(
        type=TYPE_PREFIX + kind.slug,
        title=kind.en,
        title_nb=kind.nb,
        status=kind.status,
        detail=_text(err.detail),
        instance=_text(instance) if instance is not None else None,
        errors=[_clean(e) for e in err.errors],
        pack_id=pack[0] if pack else None,
        pack_version=pack[1] if pack else None,
        content_hash=pack[2] if pack else None,
        request_id=request_id,
    )


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    body = problem.model_dump_json(exclude_none=True).encode()
    return Response(body, status_code=problem.status, media_type=PROBLEM_JSON,
                    headers=headers)
