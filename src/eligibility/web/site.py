"""The published legal content of a pack as HTML: served at ``/rules`` and written as a site.

:func:`environment` is the Jinja2 environment of the package's templates (autoescaped).
:func:`render_rules_index` and :func:`render_rules_measure` render the same pages for the
server (links with ``?lang=``) and for :func:`write_site` (``eligibility doc PACK OUT_DIR``:
one folder per language, the vendored CSS copied beside them, relative links, so the site
opens from the file system or any static host with no server).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from eligibility.decision import STATUSES
from eligibility.explain.calculation import format_number
from eligibility.explain.messages import render
from eligibility.pack.model import Measure, RulePack
from eligibility.version import __version__
from eligibility.web.texts import LANG_NAMES, LANGS, ui
from eligibility.web.views import amount_text, measure_content, rules_content

STATIC_DIR = str(Path(__file__).parent / "static")


def environment() -> Environment:
    """The templates' environment (HTML autoescaped, undefined names are errors)."""
    from jinja2 import StrictUndefined

    env = Environment(loader=PackageLoader("eligibility.web", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(lang_names=LANG_NAMES, engine_version=__version__,
                       fmt=format_number)
    return env


def common(lang: str) -> dict[str, Any]:
    """What every template gets: the page's texts, the engine's messages, the language."""
    return {"t": ui(lang), "msg": lambda key, **args: render(key, lang, **args),
            "status_text": {s: render(f"status.{s}", lang) for s in STATUSES},
            "lang": lang, "langs": LANGS, "amount_text": amount_text}


def _links(server: bool, lang: str, page: str) -> dict[str, Any]:
    """Where the language switch, the overview and measure pages point."""
    if server:
        return {"lang_href": {code: f"?lang={code}" for code in LANGS},
                "index_href": f"./?lang={lang}", "measure_href": f"{{id}}.html?lang={lang}"}
    return {"lang_href": {code: f"../{code}/{page}" for code in LANGS},
            "index_href": "index.html", "measure_href": "{id}.html"}


def render_rules_index(env: Environment, pack: RulePack, lang: str, static: str,
                       server: bool) -> str:
    content = rules_content(pack, lang)
    return env.get_template("rules_index.html").render(
        static=static, server=server, **common(lang), **_links(server, lang, "index.html"),
        **content)


def render_rules_measure(env: Environment, pack: RulePack, measure: Measure, lang: str,
                         static: str, server: bool) -> str:
    content = rules_content(pack, lang)
    m = measure_content(pack, measure, lang)
    params = [p for p in content["parameters"] if p.name in m.parameters]
    return env.get_template("rules_measure.html").render(
        static=static, server=server, pack=pack, title=content["title"], m=m,
        parameters=params, **common(lang),
        **_links(server, lang, f"{measure.id}.html"))


def write_site(pack: RulePack, out_dir: Path) -> list[Path]:
    """Write the published content of ``pack`` to ``out_dir``; returns the pages written."""
    env = environment()
    out_dir.mkdir(parents=True, exist_ok=True)
    static_out = out_dir / "static"
    if static_out.exists():
        shutil.rmtree(static_out)
    shutil.copytree(Path(STATIC_DIR), static_out,
                    ignore=shutil.ignore_patterns("axe-core", "htmx", "app.js"))
    written: list[Path] = []
    for lang in LANGS:
        folder = out_dir / lang
        folder.mkdir(exist_ok=True)
        page = folder / "index.html"
        page.write_text(render_rules_index(env, pack, lang, "../static", server=False),
                        encoding="utf-8")
        written.append(page)
        for m in pack.measures:
            page = folder / f"{m.id}.html"
            page.write_text(render_rules_measure(env, pack, m, lang, "../static", server=False),
                            encoding="utf-8")
            written.append(page)
    index = out_dir / "index.html"
    index.write_text(env.get_template("site_index.html").render(
        static="static", pack=pack, **common("nb")), encoding="utf-8")
    written.append(index)
    return written
