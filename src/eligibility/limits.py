"""Every limit on hostile or oversized input, in one place.

Each constant here bounds what one input can cost before the engine does expensive
work with it: the size and shape of a YAML document (rule files and fact files),
of a facts document (numbers, nesting, strings, members), of a rule expression,
and the time the search tools (why-not, counterfactual, sweep) may spend on one
request. The checks live next to the code they protect (``pack/yamlio.py``,
``pack/loader.py``, ``expr/parser.py``, ``facts.py``, the search modules and the
HTTP service); ``docs/limits.md`` lists the same figures for users. A value over a
limit is refused with the project's own error naming the field or file:line — the
limit is never a silent truncation.
"""

from __future__ import annotations

from typing import Final

# -- numbers (facts, YAML scalars, expression literals) -------------------------
#: Significant digits a number may have (``123.45`` has 5).
MAX_NUMBER_DIGITS: Final = 30
#: Largest decimal exponent of a number's magnitude (``1e20`` has 20): no fact may
#: exceed 10^20 in size, far beyond any household's amounts. (Tiny numbers such as
#: ``1e-300`` cost nothing and are left to the schema's own bounds.)
MAX_NUMBER_EXPONENT: Final = 20

# -- facts documents ------------------------------------------------------------
#: Nesting of objects/lists in a facts document (facts → members → member → field is 4).
MAX_FACTS_DEPTH: Final = 8
#: Characters in one string of a facts document.
MAX_STRING_LENGTH: Final = 10_000
#: Keys in one object of a facts document (a group has far fewer fields).
MAX_OBJECT_KEYS: Final = 1_000
#: Members of a household when the pack does not declare ``max_items``.
DEFAULT_MAX_MEMBERS: Final = 100
#: Issues a FactsError reports in full (the rest are counted).
MAX_REPORTED_ISSUES: Final = 50
#: Characters of a bad value echoed in an error message.
MAX_ECHOED_VALUE: Final = 80

#: Dated values of one fact (``[{from: DATE, value: ...}, ...]``; the list limit above).
MAX_DATED_VALUES: Final = DEFAULT_MAX_MEMBERS
#: Days one period evaluation may cover (``evaluate_period``, ``--from``/``--to``).
MAX_PERIOD_DAYS: Final = 366 * 10
#: Sub-periods one period evaluation may split into.
MAX_PERIODS: Final = 400

# -- YAML (rule files and fact files) ---------------------------------------------
#: Nesting of mappings/sequences in one YAML document.
MAX_YAML_DEPTH: Final = 32
#: Nodes of one YAML document after aliases are expanded (rule files may use
#: aliases; facts documents may not use them at all).
MAX_YAML_NODES: Final = 200_000
#: Bytes of one rule file or facts file.
MAX_FILE_BYTES: Final = 2_000_000

# -- rule expressions ---------------------------------------------------------------
#: Characters of one expression.
MAX_EXPR_LENGTH: Final = 10_000
#: Nesting of parentheses, brackets, calls, ``if`` and ``not``/unary minus chains.
MAX_EXPR_NESTING: Final = 40
#: Depth of the parsed expression tree (a chain ``a + b + c`` is one level per term).
MAX_EXPR_TREE_DEPTH: Final = 120

# -- search tools (why-not, counterfactual, sweep) and the HTTP service ------------
#: Seconds of work one why-not, counterfactual or sweep may take before it stops
#: with what it found so far (marked partial) or with a budget error.
SEARCH_BUDGET_SECONDS: Final = 1.5
#: The same budget on the command line (why-not, counterfactual, sweep and
#: ``evaluate --why-not``), where one person waits for one answer; ``--time-budget``.
CLI_SEARCH_BUDGET_SECONDS: Final = 30.0
#: Seconds uvicorn keeps an idle keep-alive connection open.
HTTP_KEEP_ALIVE_SECONDS: Final = 5
#: Concurrent connections uvicorn accepts before it answers 503.
HTTP_MAX_CONCURRENCY: Final = 64
#: Seconds a client has to send its whole request body (else 408).
HTTP_BODY_READ_SECONDS: Final = 10
#: Bytes of a request's head (request line and headers) uvicorn buffers.
HTTP_MAX_HEADER_BYTES: Final = 16_384
#: Bytes of a request body (the service's default; ``ELIGIBILITY_MAX_BODY_BYTES``).
HTTP_MAX_BODY_BYTES: Final = 1_000_000

__all__ = [name for name in dir() if name.isupper()]
