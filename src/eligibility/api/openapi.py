"""The OpenAPI document: FastAPI's, completed with what only this service knows.

:func:`build_openapi` starts from FastAPI's generated document and adds: the
facts schema of every served pack (so ``facts`` in a request is fully
described), the served pack ids as the ``pack_id`` enum, the period fields (``from``
and ``to`` together; none for why-not), request examples from
the bundled fixtures, the batch size limit, ``application/problem+json`` for
every error status (replacing FastAPI's default 422 body), the pack headers of
successful responses, and the bearer security scheme when a token is set.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.openapi.utils import get_openapi

from eligibility.api.examples import examples_for
from eligibility.api.problems import PROBLEM_JSON, Problem
from eligibility.api.registry import HASH_PATTERN, PackRegistry, Served
from eligibility.api.settings import Settings

COMPONENTS = "#/components/schemas/"

DESCRIPTION = """\
Evaluate Norwegian households against a rule pack (the law as data) and get a
Decision for every social housing measure: status, amount, reasons with legal
sources, missing facts, discretionary assessments and provenance.

Every response names the rules that answered: the pack id, version and content
hash are in the body and in the headers `X-Eligibility-Pack`,
`X-Eligibility-Pack-Version` and `X-Eligibility-Pack-Hash`. Pin a hash with the
request header `X-Eligibility-Pack-Hash` or the body field `pack_hash`: a
server holding other rules answers 409. Errors are RFC 9457 problem details
(`application/problem+json`) listing the path of every invalid field.
"""

_ERRORS: dict[str, str] = {
    "400": "Malformed JSON.",
    "401": "Missing or wrong bearer token (only when the server sets a token).",
    "404": "No such pack.",
    "409": "The pinned pack hash is not the one the server holds.",
    "408": "The body did not arrive in time.",
    "413": "The body (or batch) is larger than the server accepts.",
    "415": "The body is not application/json.",
    "422": "A field is invalid; `errors` lists the path of every one.",
    "500": "Unexpected failure (no details are disclosed).",
}

_PACK_HEADERS = {
    "X-Eligibility-Pack": "The id of the pack that answered.",
    "X-Eligibility-Pack-Version": "Its version.",
    "X-Eligibility-Pack-Hash": "Its content hash (SHA-256).",
    "X-Request-Id": "The request's id, also in the access log.",
}


def _years_from(year: int) -> str:
    """A regex alternation matching four-digit years ≥ ``year``."""
    text = f"{year:04d}"
    options = [text]
    for i, ch in enumerate(text):
        if ch != "9":
            rest = 3 - i
            options.append(text[:i] + f"[{int(ch) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join(options)


def _date_pattern(registry: PackRegistry) -> str | None:
    """A pattern for the dates every served pack covers (from its first full year on),
    or ``None`` when a pack ends (then the date is only checked on the server)."""
    metas = [s.pack.meta for s in registry.all()]
    if not metas or any(m.valid_to is not None for m in metas):
        return None
    first = max(m.valid_from for m in metas)
    year = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    return f"^(?:{_years_from(year)})-[0-9]{{2}}-[0-9]{{2}}$"


def _declare_dates(components: dict[str, Any], doc: dict[str, Any],
                   registry: PackRegistry) -> None:
    """``as_of`` says which dates the packs cover (else the answer is 422)."""
    pattern = _date_pattern(registry)
    if pattern is None:
        return
    for name in ("EvaluateRequest", "WhatIfRequest", "WhyNotRequest"):
        for key in ("as_of", "from", "to"):  # from/to: a period (docs/periods.md)
            prop = components.get(name, {}).get("properties", {}).get(key, {})
            for branch in prop.get("anyOf", [prop]):
                if branch.get("format") == "date":
                    branch["pattern"] = pattern
    for item in doc.get("paths", {}).values():
        for op in item.values():
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                if param.get("name") == "as_of":
                    for branch in schema.get("anyOf", [schema]):
                        if branch.get("format") == "date":
                            branch["pattern"] = pattern


def _declare_periods(components: dict[str, Any]) -> None:
    """``from`` and ``to`` come together, both dates (``monthly: true`` needs both; a
    null is the same as leaving the field out) in the evaluate
    and what-if bodies; why-not explains one date and takes neither (a 422 naming the
    field). Order and length (at most MAX_PERIOD_DAYS) are stated in ``to``'s
    description: JSON Schema cannot compare two dates."""
    for name in ("EvaluateRequest", "WhatIfRequest"):
        request = components.get(name)
        if request is None or "from" not in request.get("properties", {}):
            continue
        date_given = {"type": "string"}  # a date, not null (null means "not given")
        both = {"required": ["from", "to"],
                "properties": {"from": date_given, "to": date_given}}
        request["allOf"] = [
            {"if": {"required": [key], "properties": {key: date_given}}, "then": both}
            for key in ("from", "to")
        ] + [{"if": {"required": ["monthly"], "properties": {"monthly": {"const": True}}},
              "then": both}]
    why_not = components.get("WhyNotRequest", {}).get("properties", {})
    for key in ("from", "to", "monthly"):
        why_not.pop(key, None)


def _declare_measures(components: dict[str, Any], registry: PackRegistry) -> None:
    """Why-not ``measure_id``: the measures in force on every date ``as_of`` may take."""
    request = components.get("WhyNotRequest", {})
    prop = request.get("properties", {}).get("measure_id")
    metas = [s.pack.meta for s in registry.all()]
    if prop is None or not metas:
        return
    first = max(m.valid_from for m in metas)
    ids = sorted({m.id for s in registry.all() for m in s.pack.measures
                  if (m.valid_from is None or m.valid_from <= first) and m.valid_to is None})
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") == "string":
            branch["enum"] = ids
    prop["description"] = prop.get("description", "") + (
        " Measures that start later are also taken on dates they are in force.")


def _declare_changes(components: dict[str, Any], registry: PackRegistry) -> None:
    """What-if ``changes``: the fact paths it takes, and each path's value."""
    request = components.get("WhatIfRequest")
    if request is None or "changes" not in request.get("properties", {}):
        return
    props: dict[str, Any] = {}
    for served in registry.all():
        schema = served.facts_schema
        defs = schema.get("$defs", {})
        for group in served.pack.schema.groups.values():
            part = defs.get(f"Facts_{group.name}", {}).get("properties", {})
            g = re.escape(group.name)
            if group.is_list:
                limit = group.max_items or 100
                props[f"^{g}$"] = {"anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": limit}, {"type": "null"}]}
                props[f"^{g}\\[\\+\\]$"] = {"$ref": COMPONENTS + _component_name(
                    f"Facts.{served.pack.meta.id}.Facts_{group.name}")}
                continue  # members[N] and members[N].field: only for members that exist
            prefix = f"^{g}\\."
            for fname in group.fields:
                value = dict(part.get(fname, {}))
                for key in ("default", "title", "description"):
                    value.pop(key, None)
                if "$ref" in repr(value):
                    value = {}  # a shared definition: described with the facts instead
                props[f"{prefix}{re.escape(fname)}$"] = value
    changes = request["properties"]["changes"]
    changes.pop("additionalProperties", None)
    changes["patternProperties"] = props
    changes["additionalProperties"] = False
    changes["maxProperties"] = 1000
    changes["description"] = (
        changes.get("description", "") + " Declared here: `group.field`, `members` (the "
        "number of members) and `members[+]` (add one). `members[N]` (replace or, with "
        "null, remove member N) and `members[N].field` are also taken for a member the "
        "household has; another N is a 422.")


def _not_null(param: dict[str, Any]) -> None:
    """An optional parameter is left out, never sent as ``null``: declare only its type."""
    schema = param.get("schema", {})
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if "anyOf" in schema and len(branches) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        param["schema"] = {**rest, **branches[0]}


def _component_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _facts_component(served: Served, components: dict[str, Any]) -> str:
    """Add one pack's facts schema (and its parts) as components; return the name."""
    base = _component_name(f"Facts.{served.pack.meta.id}")
    schema = dict(served.facts_schema)
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id", "x-eligibility-pack"):
        schema.pop(key, None)

    def relink(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: relink(v) for k, v in value.items()}
            ref = out.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                out["$ref"] = COMPONENTS + f"{base}.{_component_name(ref[8:])}"
            return out
        if isinstance(value, list):
            return [relink(v) for v in value]
        return value

    for name, part in defs.items():
        components[f"{base}.{_component_name(name)}"] = relink(part)
    components[base] = relink(schema)
    return base


def _examples(registry: PackRegistry) -> tuple[dict[str, Any], dict[str, Any]]:
    single: dict[str, Any] = {}
    for served in registry.all():
        for ex in examples_for(served.engine):
            body: dict[str, Any] = {"facts": ex.facts, "lang": "nb"}
            if ex.as_of is not None:
                body["as_of"] = ex.as_of.isoformat()
            single[_component_name(f"{served.pack.meta.id}.{ex.name}")] = {
                "summary": f"{ex.summary} ({served.pack.meta.id})", "value": body}
    batch: dict[str, Any] = {}
    if single:
        items = [e["value"] for e in single.values()][:3]
        batch["fixtures"] = {"summary": "Three households from the bundled fixtures",
                             "value": {"items": items}}
    return single, batch


def build_openapi(routes: list[Any], registry: PackRegistry, settings: Settings,
                  version: str) -> dict[str, Any]:
    doc = get_openapi(title="eligibility", version=version, description=DESCRIPTION,
                      routes=routes)
    components: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    problem = Problem.model_json_schema(ref_template=COMPONENTS + "{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem

    fact_refs = [{"$ref": COMPONENTS + _facts_component(s, components)}
                 for s in registry.all()]
    for name in ("EvaluateRequest", "WhatIfRequest", "WhyNotRequest"):
        request = components.get(name)
        if request and fact_refs and "facts" in request.get("properties", {}):
            described = request["properties"]["facts"].get("description", "")
            request["properties"]["facts"] = (
                {**fact_refs[0], "description": described} if len(fact_refs) == 1
                else {"anyOf": fact_refs, "description": described})
    batch = components.get("BatchRequest")
    if batch:
        # each item is checked on its own (a bad one gets a problem in the 200 answer),
        # so the items themselves are not constrained here
        batch["properties"]["items"] = {
            "type": "array", "items": {"description": "An EvaluateRequest."},
            "maxItems": settings.max_batch,
            "description": batch["properties"]["items"].get("description", "")
            + " Each item has the shape of `EvaluateRequest`.",
        }

    _declare_dates(components, doc, registry)
    _declare_periods(components)
    _declare_measures(components, registry)
    _declare_changes(components, registry)

    single_examples, batch_examples = _examples(registry)
    ids = registry.ids()
    problem_ref = {"$ref": COMPONENTS + "Problem"}
    if settings.api_token is not None:
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "Set by ELIGIBILITY_API_TOKEN on the server."}}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            codes = ["500"]
            if settings.api_token is not None and path not in ("/v1/health", "/v1/ready"):
                codes.append("401")
                op["security"] = [{"bearer": []}]
            if "{pack_id}" in path:
                codes += ["404", "409", "422"]
            if any(p.get("in") == "query" for p in op.get("parameters", [])):
                codes.append("422")
            if method == "post":
                codes += ["400", "408", "413", "415", "422"]
            if path == "/v1/ready":
                responses["503"] = {"description": "No pack is loaded.",
                                    "content": {PROBLEM_JSON: {"schema": problem_ref}}}
            for code in sorted(set(codes)):
                responses[code] = {"description": _ERRORS[code],
                                   "content": {PROBLEM_JSON: {"schema": problem_ref}}}
            responses["default"] = {"description": "Any other error, as a problem.",
                                    "content": {PROBLEM_JSON: {"schema": problem_ref}}}
            for param in op.get("parameters", []):
                _not_null(param)
                if param.get("name") == "X-Eligibility-Pack-Hash":
                    param["schema"] = {"type": "string", "pattern": HASH_PATTERN}
                if param.get("name") == "pack_id" and ids:
                    param["schema"] = {"type": "string", "enum": ids}
                    param["example"] = ids[0]
            if "{pack_id}" in path and "200" in responses:
                responses["200"]["headers"] = {
                    name: {"description": text, "schema": {"type": "string"}}
                    for name, text in _PACK_HEADERS.items()}
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                if path.endswith("/evaluate/batch") and batch_examples:
                    body["examples"] = batch_examples
                elif single_examples:
                    body["examples"] = single_examples
    return doc

