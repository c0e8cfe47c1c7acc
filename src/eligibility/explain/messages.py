"""Message catalogs in bokmål and English, keyed by message id.

Logic never builds text: reasons carry a message key and arguments, and the text
is rendered here from the catalog of the chosen language. Add a key to both
catalogs at once (a test checks that they have the same keys and placeholders).
"""

from __future__ import annotations

from typing import Any

Lang = str

CATALOG: dict[str, dict[str, str]] = {
    "nb": {
        "outcome.met": "{title}: oppfylt",
        "outcome.not_met": "{title}: ikke oppfylt",
        "outcome.waived": "{title}: unntaket «{exception}» gjelder",
        "outcome.unknown": "{title}: kan ikke avgjøres – mangler {missing}",
        "outcome.discretionary": "{title}: kommunen vurderer dette skjønnsmessig",
        "outcome.discretionary_hint": "{title}: kommunen vurderer dette skjønnsmessig "
                                      "(beregnet: {indicator})",
        "status.eligible": "Oppfyller vilkårene",
        "status.not_eligible": "Oppfyller ikke vilkårene",
        "status.undetermined": "Kan ikke avgjøres ennå",
        "summary.eligible": "Oppfyller vilkårene",
        "summary.not_eligible": "Ikke oppfylt: {failed}",
        "summary.missing": "Mangler opplysninger: {missing}",
        "summary.discretion": "Må vurderes av saksbehandler: {discretionary}",
        "value.true": "ja",
        "value.false": "nei",
        "value.unknown": "ukjent",
        "label.measure": "Tiltak",
        "label.status": "Status",
        "label.amount": "Beløp",
        "label.reasons": "Begrunnelse",
        "label.sources": "Rettsgrunnlag",
        "label.criteria": "Prioriterte grupper og avledede fakta",
        "label.missing": "Spørsmål som bør stilles",
        "label.affects": "påvirker",
        "label.priority": "prioritet",
        "label.unconfirmed": "ubekreftet",
        "label.provenance": "Regelsett",
        "label.advice": "Råd",
        "label.value": "Verdi",
        "label.criterion": "Kriterium",
    },
    "en": {
        "outcome.met": "{title}: met",
        "outcome.not_met": "{title}: not met",
        "outcome.waived": "{title}: the exception “{exception}” applies",
        "outcome.unknown": "{title}: cannot be decided – missing {missing}",
        "outcome.discretionary": "{title}: for the municipality's discretionary assessment",
        "outcome.discretionary_hint": "{title}: for the municipality's discretionary "
                                      "assessment (computed: {indicator})",
        "status.eligible": "Eligible",
        "status.not_eligible": "Not eligible",
        "status.undetermined": "Cannot be decided yet",
        "summary.eligible": "All requirements met",
        "summary.not_eligible": "Not met: {failed}",
        "summary.missing": "Missing facts: {missing}",
        "summary.discretion": "Needs a caseworker's assessment: {discretionary}",
        "value.true": "yes",
        "value.false": "no",
        "value.unknown": "unknown",
        "label.measure": "Measure",
        "label.status": "Status",
        "label.amount": "Amount",
        "label.reasons": "Reasons",
        "label.sources": "Legal basis",
        "label.criteria": "Priority groups and derived facts",
        "label.missing": "Questions to ask",
        "label.affects": "affects",
        "label.priority": "priority",
        "label.unconfirmed": "unconfirmed",
        "label.provenance": "Rule pack",
        "label.advice": "Advice",
        "label.value": "Value",
        "label.criterion": "Criterion",
    },
}

LANGUAGES = tuple(CATALOG)


def render(key: str, lang: Lang, **args: Any) -> str:
    """The text of message ``key`` in ``lang`` with ``args`` filled in."""
    catalog = CATALOG.get(lang, CATALOG["nb"])
    template = catalog.get(key) or CATALOG["nb"][key]
    return template.format(**args)
