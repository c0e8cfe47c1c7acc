"""The caseworker's page and the published legal content (server-rendered HTML).

:func:`mount_web` adds to the service's FastAPI app the page at ``/`` (a household form
generated from the pack's fact schema; the decision, what-if, why-not, the sweep chart and
a print view swapped in with htmx as facts change), ``/rules`` (the pack's legal content:
requirements, exceptions, discretion, amount formulas, dated parameters with sources, what
is unconfirmed, the worked cases) and the vendored static files (Digdir designsystemet CSS,
htmx; axe-core for the browser tests). :func:`write_site` writes the same legal content as
a static site (``eligibility doc``; :mod:`eligibility.web.site` needs only Jinja2, the
routes in :mod:`eligibility.web.routes` FastAPI too). Templates are autoescaped; nothing
is loaded from a CDN and no page runs an inline script. Needs the ``api`` extra.
"""
