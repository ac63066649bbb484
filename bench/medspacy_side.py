"""The medspaCy side of `bench/negation_choice.py`, run only by another virtualenv's python.

medspaCy is no dependency of the project, so this module is never imported by
it: `negation_choice` runs `PYTHON -m bench.medspacy_side SPEC.json`, where
PYTHON has medspaCy, and reads the one JSON line printed. Standard library and
medspaCy only (the spec carries the words of dialogs/understanding.yaml).

The pipeline is `medspacy.load()` (tokenizer, PyRuSH sentences, TargetMatcher,
ConText). The TargetMatcher gets the dialog's symptom words as spaCy token
patterns that do what `assistant/lexicon.py` does with them: a phrase's words
with degree words allowed between them ("feel a bit sick"), a one-word phrase
or body part also with an "s", and a body part and a sign of the same symptom
at most `part_sign_window` tokens apart, either way round; `not_symptoms` are
matched too ("can't see my legs") so that, being longer, they hide the
symptom words inside them, and are then dropped. ConText gets either its
default rules ("default") or rules built from the dialog's lists ("dialog").
"""

from __future__ import annotations

import functools
import json
import sys
import time
from typing import Any

STARTED = time.perf_counter()
PUNCTUATION = [",", ";", ":", "?", "!", ".", "...", "-", "\u2014", "\u2013"]
ASSERTION_OF = [  # as assistant/interpret.py ranks them: the first that applies wins
    ("HYPOTHETICAL", "hypothetical"), ("FAMILY", "other_person"), ("NEGATED_EXISTENCE", "denied"),
    ("POSSIBLE_EXISTENCE", "uncertain")]
ATTRIBUTE_OF = {"is_hypothetical": "HYPOTHETICAL", "is_family": "FAMILY",
                "is_negated": "NEGATED_EXISTENCE", "is_uncertain": "POSSIBLE_EXISTENCE",
                "is_historical": "HISTORICAL"}


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def assertion(categories: set[str]) -> str:
    """Our assertion from the ConText categories on a target (time words as interpret
    ranks them: worse or recent makes it present, came-and-went makes it passed)."""
    for category, name in ASSERTION_OF:
        if category in categories:
            return name
    if "WORSE" in categories:
        return "present"
    if "PASSED" in categories and ("RECENT" in categories or "HISTORICAL" not in categories):
        return "passed"
    if "RECENT" in categories:
        return "present"
    if "HISTORICAL" in categories:
        return "long_standing"
    return "present"


def target_rules(nlp: Any, words: dict[str, Any]) -> list[Any]:
    from medspacy.ner import TargetRule

    degree = sorted({w for w in words["degree_words"] if " " not in w})
    window = words["part_sign_window"]

    @functools.cache
    def toks(text: str) -> list[str]:
        return [t.lower_ for t in nlp.tokenizer(text) if not t.is_space]

    def gapped(text: str) -> list[dict[str, Any]]:
        pattern: list[dict[str, Any]] = []
        for i, tok in enumerate(toks(text)):
            if i:
                pattern.append({"LOWER": {"IN": degree}, "OP": "*"})
            pattern.append({"LOWER": tok})
        return pattern

    def alternatives(texts: list[str], plurals: bool, gaps: bool) -> list[list[dict[str, Any]]]:
        single = {toks(t)[0] for t in texts if len(toks(t)) == 1}
        if plurals:
            single |= {w + "s" for w in single}
        out: list[list[dict[str, Any]]] = [[{"LOWER": {"IN": sorted(single)}}]] if single else []
        for t in texts:
            if len(toks(t)) > 1:
                out.append(gapped(t) if gaps else [{"LOWER": w} for w in toks(t)])
        return out

    rules = [TargetRule(t, "NOT_SYMPTOM") for t in words["not_symptoms"]]
    for name, s in words["symptoms"].items():
        for pattern in alternatives(s["phrases"], plurals=True, gaps=True):
            rules.append(TargetRule(f"{name} phrase", name, pattern=pattern))
        gap = [{"OP": f"{{0,{window}}}"}]
        for part in alternatives(s["parts"], plurals=True, gaps=False):
            for sign in alternatives(s["signs"], plurals=False, gaps=True):
                rules.append(TargetRule(f"{name} part+sign", name, pattern=part + gap + sign))
                rules.append(TargetRule(f"{name} sign+part", name, pattern=sign + gap + part))
    return rules


def context_rules(words: dict[str, Any]) -> list[Any]:
    """ConText rules from the dialog's own lists, with its windows; clause breaks and
    punctuation end the scope of negation, doubt, hypotheticals and someone else's,
    but not of time words (interpret also looks across clauses for "better now")."""
    from medspacy.context import ConTextRule

    neg, unc, hyp, other, when = (words[k] for k in (
        "negation", "uncertainty", "hypothetical", "someone_else", "time"))
    stop = {"BREAK"}
    chosen: dict[str, tuple[str, str, int | None, set[str] | None]] = {}

    def add(texts: list[str], category: str, direction: str, scope: int | None = None,
            terminated: set[str] | None = None) -> None:
        """One rule per text: medspaCy keeps one match per span, so a word that is in the
        before and the after list of a category ("maybe", "no") becomes bidirectional."""
        for text in texts:
            key = text.lower()
            if key not in chosen:
                chosen[key] = (category, direction, scope, terminated)
            elif chosen[key][0] == category and chosen[key][1] != direction:
                wider = max(chosen[key][2] or 0, scope or 0) or None
                chosen[key] = (category, "BIDIRECTIONAL", wider, terminated)

    add(neg["clausal"] + neg["determiner"], "NEGATED_EXISTENCE", "FORWARD", neg["window"], stop)
    add(neg["after"], "NEGATED_EXISTENCE", "BACKWARD", 3, stop)
    add(neg["pseudo"], "NEGATED_EXISTENCE", "PSEUDO")
    add(unc["before"], "POSSIBLE_EXISTENCE", "FORWARD", unc["window"], stop)
    add(unc["after"], "POSSIBLE_EXISTENCE", "BACKWARD", 3, stop)
    add(hyp["before"], "HYPOTHETICAL", "FORWARD", hyp["window"], stop)
    add(other["before"], "FAMILY", "FORWARD", other["window"], stop)
    add(when["long_standing"], "HISTORICAL", "BIDIRECTIONAL")
    add(when["passed"], "PASSED", "BIDIRECTIONAL")
    add(when["onset"] + when["current"], "RECENT", "BIDIRECTIONAL")
    add(when["worse"], "WORSE", "BIDIRECTIONAL")
    add(words["clause_breaks"] + PUNCTUATION, "BREAK", "BIDIRECTIONAL")
    return [ConTextRule(text, category, direction=direction, max_scope=scope,
                        terminated_by=terminated)
            for text, (category, direction, scope, terminated) in chosen.items()]


def found_in(doc: Any) -> list[list[Any]]:
    out = []
    for ent in doc.ents:
        if ent.label_ == "NOT_SYMPTOM":
            continue
        categories = {c for attr, c in ATTRIBUTE_OF.items() if getattr(ent._, attr)}
        categories |= {m.category.upper() for m in ent._.modifiers}
        out.append([ent.label_, assertion(categories), ent.text,
                    sorted({f"{m.category}: {doc[slice(*m.modifier_span)].text}"
                            for m in ent._.modifiers if m.category != "BREAK"})])
    return out


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    marks, ms = {"python": rss_mb()}, {}
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        ms[name] = round((time.perf_counter() - t) * 1000, 2)
        marks[name] = round(rss_mb(), 2)
        t = time.perf_counter()

    import pydantic  # noqa: F401 - the project loads it anyway: count only what medspaCy adds

    step("import_pydantic")
    import medspacy
    from loguru import logger

    logger.remove()  # PyRuSH logs every sentence at DEBUG to stderr: off, as in any product
    step("import_medspacy")
    dialog = spec["rules"] == "dialog"
    nlp = medspacy.load(load_rules=not dialog)
    step("load")
    nlp.get_pipe("medspacy_target_matcher").add(target_rules(nlp, spec["words"]))
    if dialog:
        nlp.get_pipe("medspacy_context").add(context_rules(spec["words"]))
    step("add_rules")
    nlp(spec["warm_up"])
    step("first_doc")
    ms["total"] = round((time.perf_counter() - STARTED) * 1000, 2)
    out: dict[str, Any] = {"ms": ms, "rss_mb": marks, "medspacy": medspacy.__version__}
    if spec["texts"]:
        out["found"] = [found_in(nlp(text)) for text in spec["texts"]]
        times: list[list[float]] = [[] for _ in spec["texts"]]
        for _ in range(spec["passes"]):
            for i, text in enumerate(spec["texts"]):
                started = time.perf_counter_ns()
                nlp(text)
                times[i].append((time.perf_counter_ns() - started) / 1e6)
        out["times_ms"] = times
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
