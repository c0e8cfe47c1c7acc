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
        # the compact terminal view (eligibility.explain.terminal)
        "view.counts": "✓ {eligible} oppfyller vilkårene · ? {undetermined} kan ikke avgjøres "
                       "ennå · ✗ {not_eligible} oppfyller ikke",
        "view.missing": "mangler {count} opplysninger: {facts}",
        "view.missing_one": "mangler: {facts}",
        "view.more_questions": "… og {count} spørsmål til (--details viser alle)",
        "view.unconfirmed_note": "* bygger på regler eller satser som ikke er bekreftet "
                                 "(--details viser hvilke)",
        "view.details_hint": "Full begrunnelse per vilkår: --details",
        # what-if, why-not, counterfactuals, sweeps, ask (eligibility.whatif & co.)
        "whatif.label.baseline": "Utgangspunkt",
        "whatif.label.variant": "Variant",
        "whatif.label.change": "Endring",
        "whatif.label.changes": "Endrede fakta",
        "whatif.label.reasons_changed": "Endrede begrunnelser",
        "whatif.label.removed": "fjernet",
        "whatif.label.added": "lagt til",
        "whatif.no_change": "Ingen tiltak endres.",
        "whynot.requirement.at_or_below": "{subject}: oppfylt hvis {fact} er {value} eller "
                                          "lavere (nå {current})",
        "whynot.requirement.at_or_above": "{subject}: oppfylt hvis {fact} er {value} eller "
                                          "høyere (nå {current})",
        "whynot.requirement.set_to": "{subject}: oppfylt hvis {fact} er {value} (nå {current})",
        "whynot.measure.at_or_below": "{subject} hvis {fact} er {value} eller lavere "
                                      "(nå {current})",
        "whynot.measure.at_or_above": "{subject} hvis {fact} er {value} eller høyere "
                                      "(nå {current})",
        "whynot.measure.set_to": "{subject} hvis {fact} er {value} (nå {current})",
        "whynot.measure.limit_at_or_below": "{subject} så lenge {fact} er {value} eller "
                                            "lavere (nå {current})",
        "whynot.measure.limit_at_or_above": "{subject} så lenge {fact} er {value} eller "
                                            "høyere (nå {current})",
        "whynot.amount_then": " – beløp da: {amount}",
        "whynot.nothing": "Alle tiltak er innvilget; ingenting å forklare.",
        "whynot.label.thresholds": "Hva som endrer utfallet (ett faktum om gangen)",
        "whynot.label.limits": "Grenser for dagens utfall (ett faktum om gangen)",
        "whynot.label.expression": "Regel",
        "whynot.no_single_fact": "Ingen enkelt opplysning endrer utfallet alene.",
        "cf.title": "Minste endringer som gir «{measure}»: {status}",
        "cf.already": "«{measure}» har allerede status: {status}.",
        "cf.none": "Fant ingen endring av høyst {n} opplysninger blant dem som kan endres "
                   "({fields}).",
        "cf.missing": "Disse opplysningene mangler og bør besvares først: {missing}",
        "cf.pending": "oppfyller vilkårene, med forbehold om kommunens skjønn",
        "cf.label.facts": "Antall endringer",
        "cf.label.changes": "Endringer",
        "cf.label.result": "Resultat",
        "sweep.title": "{measure} når {fact} varierer",
        "sweep.label.value": "Verdi",
        "sweep.label.cliffs": "Klipper og terskler",
        "sweep.cliff.status": "{measure}: {before} → {after} ved {value}",
        "sweep.cliff.amount": "{measure}: beløpet hopper fra {before} til {after} ved {value}",
        "sweep.chart_written": "Diagram skrevet til {file}",
        "sweep.legend": "█ oppfyller · ? kan ikke avgjøres · · oppfyller ikke",
        "sweep.unchanged": "Uendret i hele området (--all-measures viser dem): {measures}",
        "ask.intro": "Svar på spørsmålene. Tomt svar hopper over spørsmålet; "
                     "Ctrl-D avslutter.",
        "ask.invalid": "Ugyldig svar «{answer}»: {expected}. Prøv igjen.",
        "ask.expected.bool": "svar ja eller nei",
        "ask.expected.int": "skriv et heltall",
        "ask.expected.number": "skriv et tall",
        "ask.expected.money": "skriv et beløp",
        "ask.expected.enum": "velg en av {values}",
        "ask.expected.date": "skriv en dato ÅÅÅÅ-MM-DD",
        "ask.expected.string": "skriv en tekst",
        "ask.expected.range": "{expected} mellom {minimum} og {maximum}",
        "ask.members": "Hvor mange personer bor i husstanden?",
        "ask.done": "Alle spørsmål som betyr noe for utfallet er besvart.",
        "ask.skipped": "Ubesvart: {missing}",
        "ask.saved": "Opplysningene er lagret i {file}",
        "ask.settled": "Avklart av svaret: {measures}",
        "ask.progress": "Spørsmål {k} av {n}",
        "ask.changed": "Endret av svaret:",
        "ask.unchanged": "Svaret endret ingen tiltak.",
        "ask.save_prompt": "Svarene er ikke lagret. Filnavn å lagre til (tomt: forkast)",
        "ask.not_saved": "Svarene ble ikke lagret; her er opplysningene:",
        "ask.result": "Resultat",
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
        # the compact terminal view (eligibility.explain.terminal)
        "view.counts": "✓ {eligible} eligible · ? {undetermined} undetermined · "
                       "✗ {not_eligible} not eligible",
        "view.missing": "{count} facts missing: {facts}",
        "view.missing_one": "missing: {facts}",
        "view.more_questions": "… and {count} more questions (--details shows all)",
        "view.unconfirmed_note": "* rests on rules or rates not yet confirmed "
                                 "(--details shows which)",
        "view.details_hint": "Full reasons per requirement: --details",
        # what-if, why-not, counterfactuals, sweeps, ask (eligibility.whatif & co.)
        "whatif.label.baseline": "Baseline",
        "whatif.label.variant": "Variant",
        "whatif.label.change": "Change",
        "whatif.label.changes": "Changed facts",
        "whatif.label.reasons_changed": "Changed reasons",
        "whatif.label.removed": "removed",
        "whatif.label.added": "added",
        "whatif.no_change": "No measure changes.",
        "whynot.requirement.at_or_below": "{subject}: met if {fact} is {value} or less "
                                          "(now {current})",
        "whynot.requirement.at_or_above": "{subject}: met if {fact} is {value} or more "
                                          "(now {current})",
        "whynot.requirement.set_to": "{subject}: met if {fact} is {value} (now {current})",
        "whynot.measure.at_or_below": "{subject} if {fact} is {value} or less (now {current})",
        "whynot.measure.at_or_above": "{subject} if {fact} is {value} or more (now {current})",
        "whynot.measure.set_to": "{subject} if {fact} is {value} (now {current})",
        "whynot.measure.limit_at_or_below": "{subject} as long as {fact} is {value} or less "
                                            "(now {current})",
        "whynot.measure.limit_at_or_above": "{subject} as long as {fact} is {value} or more "
                                            "(now {current})",
        "whynot.amount_then": " – amount then: {amount}",
        "whynot.nothing": "Every measure is granted; nothing to explain.",
        "whynot.label.thresholds": "What changes the outcome (one fact at a time)",
        "whynot.label.limits": "Limits of the current outcome (one fact at a time)",
        "whynot.label.expression": "Rule",
        "whynot.no_single_fact": "No single fact changes the outcome on its own.",
        "cf.title": "Smallest changes that make “{measure}”: {status}",
        "cf.already": "“{measure}” already has status: {status}.",
        "cf.none": "Found no change of at most {n} facts among those that can change "
                   "({fields}).",
        "cf.missing": "These facts are missing and should be answered first: {missing}",
        "cf.pending": "eligible, subject to the municipality's assessment",
        "cf.label.facts": "Facts changed",
        "cf.label.changes": "Changes",
        "cf.label.result": "Result",
        "sweep.title": "{measure} as {fact} varies",
        "sweep.label.value": "Value",
        "sweep.label.cliffs": "Cliffs and thresholds",
        "sweep.cliff.status": "{measure}: {before} → {after} at {value}",
        "sweep.cliff.amount": "{measure}: the amount jumps from {before} to {after} at {value}",
        "sweep.chart_written": "Chart written to {file}",
        "sweep.legend": "█ eligible · ? undetermined · · not eligible",
        "sweep.unchanged": "Unchanged over the whole range (--all-measures shows them): "
                           "{measures}",
        "ask.intro": "Answer the questions. An empty answer skips the question; "
                     "Ctrl-D ends.",
        "ask.invalid": "Invalid answer “{answer}”: {expected}. Please try again.",
        "ask.expected.bool": "answer yes or no",
        "ask.expected.int": "write a whole number",
        "ask.expected.number": "write a number",
        "ask.expected.money": "write an amount",
        "ask.expected.enum": "choose one of {values}",
        "ask.expected.date": "write a date YYYY-MM-DD",
        "ask.expected.string": "write a text",
        "ask.expected.range": "{expected} between {minimum} and {maximum}",
        "ask.members": "How many people live in the household?",
        "ask.done": "Every question that matters for the outcome has been answered.",
        "ask.skipped": "Unanswered: {missing}",
        "ask.saved": "The facts were saved to {file}",
        "ask.settled": "Settled by the answer: {measures}",
        "ask.progress": "Question {k} of {n}",
        "ask.changed": "Changed by the answer:",
        "ask.unchanged": "The answer changed no measure.",
        "ask.save_prompt": "The answers are not saved. File to save them to (empty: discard)",
        "ask.not_saved": "The answers were not saved; here are the facts:",
        "ask.result": "Result",
    },
}

LANGUAGES = tuple(CATALOG)


def render(key: str, lang: Lang, **args: Any) -> str:
    """The text of message ``key`` in ``lang`` with ``args`` filled in."""
    catalog = CATALOG.get(lang, CATALOG["nb"])
    template = catalog.get(key) or CATALOG["nb"][key]
    return template.format(**args)
