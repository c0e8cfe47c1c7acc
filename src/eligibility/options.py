"""The options of one evaluation, checked at the library's entry points.

:func:`as_of_date` accepts a :class:`~datetime.date` or an ISO date text
(``"2026-01-01"``) and :func:`check_lang` a language the texts exist in; anything
else is the project's own error (:class:`~eligibility.errors.AsOfError`,
:class:`OptionError`) with a one-line message, never a ``TypeError`` from deep
inside, and never a silent fallback to bokmål.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eligibility.errors import AsOfError, EligibilityError

#: Languages every text of a pack exists in.
LANGUAGES: tuple[str, ...] = ("nb", "nn", "en")


class OptionError(EligibilityError):
    """An evaluation option (such as the language) that the engine does not know."""


def as_of_date(value: Any) -> date:
    """``value`` as a date: ``None`` is today, a date stays, ``"YYYY-MM-DD"`` is read."""
    if value is None:
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) <= 32:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
    raise AsOfError(f"as_of must be a date written YYYY-MM-DD, got {shown}")


def check_lang(lang: Any) -> str:
    """``lang`` if the texts exist in it, else :class:`OptionError`."""
    if isinstance(lang, str) and lang in LANGUAGES:
        return lang
    shown = repr(lang)[:20] if isinstance(lang, str) else type(lang).__name__
    raise OptionError(f"lang must be one of {', '.join(LANGUAGES)}, got {shown}")
