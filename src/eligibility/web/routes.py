"""The caseworker page (``/``), its htmx fragments (``/ui/*``) and the legal content (``/rules``).

:func:`mount_web` adds to a FastAPI app, bound to its
:class:`~eligibility.api.registry.PackRegistry` and settings (no module state): the page
shell, the fragments the page swaps in as facts change (the decision, the form after a
member is added or removed or a file loaded, what-if, why-not, the sweep chart, the print
view), the published rules, and the vendored static files under ``/web/static``. Every
HTML response carries a Content-Security-Policy without inline scripts or styles.

The shell and ``/rules`` hold no household data and are open; the fragments evaluate
facts and, when the service has an API token, need it as a bearer header like ``/v1``
(the page asks for it once and sends it with every request; a 401 makes it ask again).
Form bodies are ``application/x-www-form-urlencoded`` and parsed with the standard
library; a file is read in the browser and sent as text. Bad input becomes a message
next to the field, never a 500. Facts given with a source or as dated values
(:mod:`eligibility.provenance`) keep them through the form (:mod:`eligibility.web.forms`):
the decision lists the facts to confirm before deciding, and a fact whose value the
caseworker changed has its source shown anew (swapped in out of band).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from eligibility.api.registry import PackRegistry, Served
from eligibility.api.settings import Settings
from eligibility.decision import Decision
from eligibility.errors import EligibilityError, FactsError
from eligibility.explain.whynot import why_not
from eligibility.pack.yamlio import YamlError, load_yaml_text, plain
from eligibility.sweep import sweep
from eligibility.web import forms
from eligibility.web.site import (
    STATIC_DIR,
    common,
    environment,
    render_rules_index,
    render_rules_measure,
)
from eligibility.web.texts import check_lang, ui
from eligibility.web.views import justification, sweep_svg
from eligibility.whatif import ChangeError, compare, field_spec, parse_field, what_if

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
STATIC_URL = "/web/static"
MAX_UPLOAD_CHARS = 200_000


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


class Web:
    """The page's handlers, bound to one registry and its settings."""

    def __init__(self, registry: PackRegistry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        self.env: Environment = environment()

    # -- helpers ---------------------------------------------------------------

    def served(self, pack_id: str | None) -> Served:
        ids = self.registry.ids()
        return self.registry.get(pack_id if pack_id in ids else ids[0])

    def authorised(self, request: Request) -> bool:
        token = self.settings.api_token
        if token is None:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  token.encode())

    def render(self, template: str, lang: str, **ctx: Any) -> str:
        return self.env.get_template(template).render(static=STATIC_URL, **common(lang), **ctx)

    async def form_data(self, request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", errors="replace")
        data: dict[str, str] = {}
        for key, value in parse_qsl(body, keep_blank_values=True):
            data[key] = value
        return data

    def base(self, data: Mapping[str, str]) -> tuple[Served, str, date, str | None]:
        served = self.served(data.get("pack"))
        lang = check_lang(data.get("lang"))
        as_of_text = data.get("as_of", "").strip()
        error = None
        try:
            as_of = date.fromisoformat(as_of_text) if as_of_text else date.today()
        except ValueError:
            as_of, error = date.today(), f"as_of: expected a date YYYY-MM-DD, got {as_of_text!r}"
        return served, lang, as_of, error

    def read(self, served: Served, data: Mapping[str, str], as_of: date) -> forms.ReadForm:
        return forms.read_form(served.pack.schema, data, as_of, served.pack.meta.fact_sources)

    def plain_at(self, served: Served, read: forms.ReadForm, as_of: date) -> None:
        """Replace ``read``'s facts by their plain values on ``as_of`` (for the tools that
        explain one date and change facts one by one: why-not, the sweep, the print)."""
        try:
            read.facts = served.engine.given(read.facts).at(as_of)
        except FactsError as exc:
            read.errors.update({i.path: str(i) for i in exc.issues})

    def evaluate(self, served: Served, facts: dict[str, Any], as_of: date, lang: str
                 ) -> tuple[Decision | None, dict[str, str], str | None]:
        """The decision, or the errors per field / one general error."""
        if not served.pack.covers(as_of):
            return None, {}, f"as_of {as_of.isoformat()}: the pack does not cover this date"
        try:
            return served.engine.evaluate(facts, as_of=as_of, lang=lang), {}, None
        except FactsError as exc:
            return None, {i.path: str(i) for i in exc.issues}, None
        except EligibilityError as exc:
            return None, {}, str(exc)

    def decision_fragment(self, served: Served, facts: dict[str, Any], as_of: date,
                          lang: str, errors: dict[str, str], general: str | None,
                          previous: str | None, oob: bool = False,
                          chosen: Mapping[str, str] | None = None, shell: bool = False,
                          edited: set[str] | None = None) -> str:
        decision = None
        if not errors and general is None and facts:
            decision, errors, general = self.evaluate(served, facts, as_of, lang)
        diffs = None
        if decision is not None and previous:
            try:
                before_facts = json.loads(previous, parse_float=Decimal)
            except ValueError:
                before_facts = None
            if isinstance(before_facts, dict) and before_facts != _jsonable(facts):
                before, _, _ = self.evaluate(served, before_facts, as_of, lang)
                if before is not None:
                    diffs = [d for d in compare(before, decision) if d.changed]
        schema = served.pack.schema
        given_oob = []
        if edited:
            given_oob = [f for b in forms.form_groups(schema, facts, lang, as_of=as_of,
                                                      sources=served.pack.meta.fact_sources)
                         for f in b.fields if f.name in edited and f.given is not None]
        return self.render(
            "_decision.html", lang, decision=decision, errors=errors, general=general,
            given_oob=given_oob, value_text=forms.value_text,
            diffs=diffs, oob=oob, facts_json=json.dumps(_jsonable(facts), sort_keys=True),
            input_id=forms.input_id, title_of=lambda p: served.engine.title_of(p, lang),
            numeric=_numeric_paths(schema, facts), all_paths=_all_paths(schema, facts),
            pack=served.pack, chosen=chosen or {}, shell=shell,
            fallback=lambda mid: lang == "nn" and not served.pack.measure(mid).title.nn,
            req_nb=_requirements_in_nb(served, lang))

    def form_fragment(self, served: Served, facts: dict[str, Any], lang: str,
                      errors: Mapping[str, str] | None = None,
                      raw: Mapping[str, str] | None = None, note: str | None = None,
                      as_of: date | None = None) -> str:
        schema = served.pack.schema
        lgroup = forms.list_group(schema)
        blocks = forms.form_groups(schema, facts, lang, errors, raw, as_of,
                                   served.pack.meta.fact_sources)
        return self.render("_form.html", lang, blocks=blocks,
                           list_group=lgroup.name if lgroup else None, present=forms.PRESENT,
                           note=note)

    def unauthorised(self, lang: str) -> HTMLResponse:
        response = html(self.render("_error.html", lang, message=ui(lang)("token.wrong")),
                        401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="eligibility"'
        return response

    # -- routes ----------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        lang = check_lang(request.query_params.get("lang"))
        served = self.served(request.query_params.get("pack"))
        return html(self.render(
            "page.html", lang, pack=served.pack, packs=self.registry.ids(),
            form=self.form_fragment(served, {}, lang),
            decision_html=self.decision_fragment(served, {}, date.today(), lang, {}, None, None,
                                                 shell=True),
            today=date.today().isoformat(), decision=None, facts_json="", chosen={},
            all_paths=_all_paths(served.pack.schema, {}),
            numeric=_numeric_paths(served.pack.schema, {}),
            title_of=lambda p: served.engine.title_of(p, lang),
            token_required=self.settings.api_token is not None))

    async def decision(self, request: Request) -> Response:
        data = await self.form_data(request)
        served, lang, as_of, general = self.base(data)
        if not self.authorised(request):
            return self.unauthorised(lang)
        read = self.read(served, data, as_of)
        return html(self.decision_fragment(served, read.facts, as_of, lang, read.errors,
                                           general, data.get("previous"), chosen=data,
                                           edited=read.edited))

    async def form(self, request: Request) -> Response:
        """Add or remove a member (``action``), load a file (``upload_text``), or draw the
        form anew (e.g. for a new assessment date: dated facts show their value on it)."""
        data = await self.form_data(request)
        served, lang, as_of, general = self.base(data)
        if not self.authorised(request):
            return self.unauthorised(lang)
        schema = served.pack.schema
        lgroup = forms.list_group(schema)
        read = self.read(served, data, as_of)
        facts, note = read.facts, None
        action = data.get("action", "")
        if data.get("upload_text"):
            loaded = _load_upload(data["upload_text"], data.get("upload_name") or "upload")
            if isinstance(loaded, str):
                return html(self.form_fragment(served, facts, lang, read.errors, data,
                                               note=loaded)
                            + self.decision_fragment(served, {}, as_of, lang, {}, loaded, None,
                                                     oob=True))
            facts, when = loaded
            try:
                served.engine.given(facts)
            except FactsError as exc:
                name = data.get("upload_name") or "upload"
                message = "; ".join(f"{name}: {i}" for i in exc.issues)
                return html(self.form_fragment(served, read.facts, lang, read.errors, data,
                                               note=message, as_of=as_of)
                            + self.decision_fragment(served, {}, as_of, lang, {}, message, None,
                                                     oob=True))
            read.errors = {}
            note = ui(lang)("form.loaded", file=data.get("upload_name") or "upload")
            if when is not None:
                as_of = when
            read.edited = set()
        elif lgroup is not None and action == "add-member":
            facts = forms.add_member(facts, lgroup.name)
        elif lgroup is not None and action.startswith("remove-member:"):
            try:
                index = int(action.partition(":")[2])
            except ValueError:
                index = -1
            facts = forms.remove_member(facts, lgroup.name, index)
            read.errors = {k: v for k, v in read.errors.items()
                           if not k.startswith(f"{lgroup.name}[")}
        body = self.form_fragment(served, facts, lang, read.errors, data, note=note,
                                  as_of=as_of)
        body += self.decision_fragment(served, facts, as_of, lang, read.errors, general,
                                       data.get("previous"), oob=True, chosen=data)
        if data.get("upload_text"):
            body += self.render("_as_of.html", lang, as_of=as_of.isoformat())
        return html(body)

    async def whatif(self, request: Request) -> Response:
        data = await self.form_data(request)
        served, lang, as_of, general = self.base(data)
        if not self.authorised(request):
            return self.unauthorised(lang)
        read = self.read(served, data, as_of)
        path = data.get("whatif_path", "").strip()
        value = data.get("whatif_value", "")
        error, result = general, None
        if read.errors:
            error = "; ".join(read.errors.values())
        elif not path:
            error = ui(lang)("whatif.empty")
        else:
            try:
                result = what_if(served.engine, read.facts, {path: value}, as_of, lang)
            except EligibilityError as exc:
                error = str(exc)
        return html(self.render("_whatif.html", lang, result=result, error=error,
                                title_of=lambda p: served.engine.title_of(p, lang)))

    async def whynot(self, request: Request) -> Response:
        data = await self.form_data(request)
        served, lang, as_of, general = self.base(data)
        if not self.authorised(request):
            return self.unauthorised(lang)
        read = self.read(served, data, as_of)
        self.plain_at(served, read, as_of)
        error, result = general, None
        if read.errors:
            error = "; ".join(read.errors.values())
        else:
            try:
                result = why_not(served.engine, read.facts, as_of, lang)
            except EligibilityError as exc:
                error = str(exc)
        return html(self.render("_whynot.html", lang, result=result, error=error))

    async def sweep(self, request: Request) -> Response:
        data = await self.form_data(request)
        served, lang, as_of, general = self.base(data)
        if not self.authorised(request):
            return self.unauthorised(lang)
        schema = served.pack.schema
        read = self.read(served, data, as_of)
        self.plain_at(served, read, as_of)
        path = data.get("sweep_path", "").strip()
        error, svg, result = general, None, None
        try:
            spec = field_spec(schema, path) if path else None
            if read.errors:
                raise ChangeError("; ".join(read.errors.values()))
            if spec is None or spec.kind not in ("int", "number", "money"):
                raise ChangeError(f"{path or '(none)'}: choose a number or amount fact")
            start = parse_field(spec, data.get("sweep_from", ""), "sweep_from")
            stop = parse_field(spec, data.get("sweep_to", ""), "sweep_to")
            width = Decimal(stop) - Decimal(start)
            step: Any = max(Decimal(1), (width / 40).to_integral_value()) if width > 0 \
                else Decimal(1)
            if spec.kind == "int":
                step = int(step)
            result = sweep(served.engine, read.facts, path, start, stop, step, as_of, lang)
            svg = sweep_svg(result, lang, start, stop)
        except EligibilityError as exc:
            error = str(exc)
        return html(self.render("_sweep.html", lang, result=result, svg=svg, error=error))

    async def print_view(self, request: Request) -> Response:
        data = await self.form_data(request)
        served, lang, as_of, general = self.base(data)
        if not self.authorised(request):
            return self.unauthorised(lang)
        read = self.read(served, data, as_of)
        decision, errors, error = (None, read.errors, general)
        if not read.errors and general is None:
            decision, errors, error = self.evaluate(served, read.facts, as_of, lang)
        if errors:
            error = "; ".join(errors.values())
        return html(self.render(
            "_print.html", lang, decision=decision, error=error,
            text=justification(decision, lang) if decision else "",
            facts=_flat(_plain_or_none(served, read.facts, as_of)), value_text=forms.value_text,
            title_of=lambda p: served.engine.title_of(p, lang)))

    async def rules_index(self, request: Request) -> Response:
        lang = check_lang(request.query_params.get("lang"))
        served = self.served(request.query_params.get("pack"))
        return html(render_rules_index(self.env, served.pack, lang, STATIC_URL, server=True))

    async def rules_measure(self, request: Request) -> Response:
        lang = check_lang(request.query_params.get("lang"))
        served = self.served(request.query_params.get("pack"))
        name = request.path_params["name"]
        ids = [m.id for m in served.pack.measures]
        if name not in ids:
            return html(self.render("_error.html", lang, message=f"no measure {name!r}; "
                                    f"the measures are {', '.join(ids)}", page=True), 404)
        return html(render_rules_measure(self.env, served.pack, served.pack.measure(name),
                                         lang, STATIC_URL, server=True))


def _requirements_in_nb(served: Served, lang: str) -> set[tuple[str, str]]:
    """(measure, requirement) whose title is shown in bokmål although nynorsk was asked."""
    if lang != "nn":
        return set()
    return {(m.id, r.id) for m in served.pack.measures for r in m.requirements
            if not r.title.nn}


def _plain_or_none(served: Served, facts: dict[str, Any], as_of: date) -> dict[str, Any]:
    """The plain facts on ``as_of`` (none when their wrappers do not parse)."""
    try:
        return served.engine.given(facts).at(as_of)
    except FactsError:
        return {}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _flat(facts: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for group, values in facts.items():
        if isinstance(values, list):
            for i, item in enumerate(values):
                out.extend((f"{group}[{i}].{k}", v) for k, v in item.items())
        else:
            out.extend((f"{group}.{k}", v) for k, v in values.items())
    return out


def _all_paths(schema: Any, facts: Mapping[str, Any]) -> list[str]:
    paths: list[str] = []
    for group in schema.groups.values():
        if group.is_list:
            for i in range(len(facts.get(group.name) or [])):
                paths.extend(f"{group.name}[{i}].{n}" for n in group.fields)
        else:
            paths.extend(f"{group.name}.{n}" for n in group.fields)
    return paths


def _numeric_paths(schema: Any, facts: Mapping[str, Any]) -> list[str]:
    return [p for p in _all_paths(schema, facts)
            if (s := field_spec(schema, p)) is not None and s.kind in ("int", "number", "money")]


def _load_upload(text: str, name: str) -> tuple[dict[str, Any], date | None] | str:
    """Facts (and a case's ``as_of``) from an uploaded file's text, or an error message."""
    if len(text) > MAX_UPLOAD_CHARS:
        return f"{name}: the file is larger than {MAX_UPLOAD_CHARS} characters"
    try:
        if name.endswith(".json"):
            doc = json.loads(text, parse_float=Decimal)
        else:
            doc = plain(load_yaml_text(text, name))
    except json.JSONDecodeError as exc:
        return f"{name}:{exc.lineno}: invalid JSON: {exc.msg}"
    except YamlError as exc:
        return str(exc.diagnostic)
    when = None
    if isinstance(doc, dict) and isinstance(doc.get("facts"), dict):
        raw_when = doc.get("as_of")
        if isinstance(raw_when, date):
            when = raw_when
        elif isinstance(raw_when, str):
            try:
                when = date.fromisoformat(raw_when)
            except ValueError:
                return f"{name}: as_of: expected a date YYYY-MM-DD, got {raw_when!r}"
        doc = doc["facts"]
    if not isinstance(doc, dict):
        return f"{name}: expected a mapping of fact groups (household, members, …)"
    return doc, when


def mount_web(app: FastAPI, registry: PackRegistry, settings: Settings) -> None:
    """Add the page, its fragments, ``/rules`` and the static files to ``app``."""
    web = Web(registry, settings)
    add = app.add_api_route
    add("/", web.page, methods=["GET"], include_in_schema=False)
    add("/rules", lambda: RedirectResponse("/rules/", status_code=307), methods=["GET"],
        include_in_schema=False)
    add("/rules/", web.rules_index, methods=["GET"], include_in_schema=False)
    add("/rules/{name}.html", web.rules_measure, methods=["GET"], include_in_schema=False)
    for name, handler in (("decision", web.decision), ("form", web.form),
                          ("whatif", web.whatif), ("whynot", web.whynot),
                          ("sweep", web.sweep), ("print", web.print_view)):
        add(f"/ui/{name}", handler, methods=["POST"], include_in_schema=False)
    app.mount(STATIC_URL, StaticFiles(directory=Path(STATIC_DIR)), name="web-static")
