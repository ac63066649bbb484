"""`python -m bench.negation_choice --medspacy-python PATH`: our interpreter beside medspaCy.

Why: negation and assertion detection is a known problem with a known library
(medspaCy implements ConText on spaCy), so shipping our own compact
ConText-style module (`assistant/interpret.py`) has to be justified by figures
taken on the same corpus, the same pairs and the same machine, in one
invocation: accuracy, start-up, memory and time per utterance.

Ours runs in this process. medspaCy runs in a subprocess of another
virtualenv's python (`bench/medspacy_side.py`, which only that subprocess
imports): it is not, and must not become, a dependency of the project.
Make that virtualenv once (the figures were taken with medspaCy 1.3.1, which
brought spaCy 3.7.5; it needs PyPI, no model download):

    python3 -m venv /tmp/medspacy-venv
    /tmp/medspacy-venv/bin/pip install medspacy==1.3.1

medspaCy gets the same symptom words from dialogs/understanding.yaml as
TargetMatcher token patterns (how: `bench/medspacy_side.py`), and ConText
twice: with its default rules, and with rules built from the dialog's own
negation / uncertainty / hypothetical / someone_else / time / clause-break
lists and windows. Its attributes map to our assertions as: is_hypothetical
-> hypothetical, is_family -> other_person, is_negated -> denied, is_uncertain
-> uncertain, is_historical -> long_standing, none -> present (in that order
of precedence, ours). Its default rules have no "came and went" (passed)
class; the dialog rules do. What medspaCy cannot get from rules is ours
alone: the symptom the current question expects ("it was drooping", at the
face question), a complaint that becomes another with an onset time, two
complaints that together are a red flag, and two symptoms in the same words
(medspaCy's entities may not overlap: "my arm's gone dead" is arm weakness
or sudden weakness, not both); so accuracy is also given on the pairs where
every system found the symptom, which compares the assertions alone.

Accuracy is on every (symptom, assertion) pair of tests/corpus/utterances.yaml
(see bench/interpretation.py): exact, and on the coarse classes that lead to
different care; for ours also "in context", where the answer word at the
symptom's own question counts ("no, my breathing's fine"), as the dialog
uses it and as tests/test_corpus.py checks it. Start-up and memory are
medians of fresh processes, run in turn so that a busy machine slows all
alike; latency is each utterance's median over the passes, then the p50 and
p95 over the utterances.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.dialog_data import Dialogs, load_dialogs
from bench.interpretation import (
    COARSE,
    REPO_ROOT,
    WARM_UP_TEXT,
    Found,
    Pair,
    in_context,
    interpret_corpus,
    judge,
    latency,
    load_corpus,
    medians,
    pairs_of,
    score,
    startup_once,
    summarize_startup,
)

RULE_SETS = ("default", "dialog")
WORDS = ("symptoms", "degree_words", "not_symptoms", "part_sign_window", "negation",
         "uncertainty", "hypothetical", "someone_else", "time", "clause_breaks")
NAMES = {"ours": "ours", "default": "medspaCy, default ConText rules",
         "dialog": "medspaCy, ConText rules from understanding.yaml"}


def side(python: str, dialogs: Dialogs, rules: str, texts: Sequence[str] = (),
         passes: int = 0) -> dict[str, Any]:
    """One fresh medspaCy process: its start-up figures, and what it finds in `texts`."""
    spec = {"rules": rules, "words": dialogs.words.model_dump(mode="json", include=set(WORDS)),
            "warm_up": WARM_UP_TEXT, "texts": list(texts), "passes": passes}
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
        json.dump(spec, f)
        f.flush()
        started = time.perf_counter()
        done = subprocess.run([python, "-m", "bench.medspacy_side", f.name], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{python} -m bench.medspacy_side failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not texts:  # a start-up run: its whole life, as for ours
        result["ms"]["process_wall"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def side_startup(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    both = medians(runs)
    ms, rss = both["ms"], both["rss_mb"]
    return {**both, "processes": len(runs),
            "ready_ms": round(ms["import_medspacy"] + ms["load"] + ms["add_rules"]
                              + ms["first_doc"], 2),
            "adds_mb": round(rss["first_doc"] - rss["import_pydantic"], 2)}


def compare(python: str, processes: int, passes: int) -> dict[str, Any]:
    corpus = load_corpus()
    dialogs = load_dialogs()
    pairs = pairs_of(corpus)
    texts = [e["say"] for e in corpus]
    found: dict[str, Mapping[int, Found]] = {}
    times: dict[str, list[list[float]]] = {}
    detail: dict[str, Any] = {}
    found["ours"], answers, times["ours"] = interpret_corpus(corpus, passes, dialogs)
    for rules in RULE_SETS:
        run = side(python, dialogs, rules, texts, passes)
        detail[rules] = run["found"]
        found[rules] = {i: {(s, a) for s, a, *_ in f} for i, f in enumerate(run["found"])}
        times[rules] = run["times_ms"]
        version = run["medspacy"]
    starts: dict[str, list[dict[str, Any]]] = {"ours": [], **{r: [] for r in RULE_SETS}}
    for _ in range(processes):  # in turn, so that a busy machine slows all alike
        starts["ours"].append(startup_once())
        for rules in RULE_SETS:
            starts[rules].append(side(python, dialogs, rules))
    common = [p for p in pairs if all(judge(p, found[k][p.entry]).detected for k in found)]
    return {
        "medspacy": version, "python": python, "utterances": len(corpus), "passes": passes,
        "accuracy": {k: {**score(pairs, f), "all_found": score(common, f)}
                     for k, f in found.items()},
        "ours_coarse_in_context": in_context(pairs, found["ours"], answers, dialogs),
        "latency_ms": {k: latency(t) for k, t in times.items()},
        "startup": {"ours": summarize_startup(starts["ours"]),
                    **{r: side_startup(starts[r]) for r in RULE_SETS}},
        "medspacy_right_ours_wrong": disagreements(pairs, found, detail),
        "ours_right_medspacy_wrong": {r: sum(
            judge(p, found["ours"][p.entry]).coarse and not judge(p, found[r][p.entry]).coarse
            for p in pairs) for r in RULE_SETS},
    }


def disagreements(pairs: Sequence[Pair], found: Mapping[str, Mapping[int, Found]],
                  detail: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pairs where a medspaCy run is right (exact, or in the coarse class) and ours is
    not: the ones worth a reviewer's eye."""
    out = []
    for p in pairs:
        ours = judge(p, found["ours"][p.entry])
        better = [r for r in RULE_SETS if (judge(p, found[r][p.entry]).exact and not ours.exact)
                  or (judge(p, found[r][p.entry]).coarse and not ours.coarse)]
        if better:
            out.append({"say": p.say, "at": p.at, "symptom": p.symptom, "labelled": p.assertion,
                        "ours": sorted(a for s, a in found["ours"][p.entry] if s == p.symptom),
                        **{r: [f"{a} ({', '.join(m) or 'no modifier'})"
                               for s, a, _, m in detail[r][p.entry] if s == p.symptom]
                           for r in RULE_SETS},
                        "better": better})
    return out


def report(result: dict[str, Any]) -> str:
    keys = ["ours", *RULE_SETS]
    acc, lat, start = result["accuracy"], result["latency_ms"], result["startup"]
    head = f"{'':40}" + "".join(f"{k:>12}" for k in ["ours", "ms-default", "ms-dialog"])

    def row(label: str, values: Sequence[Any]) -> str:
        return f"{label:40}" + "".join(f"{v!s:>12}" for v in values)

    common = acc["ours"]["all_found"]["pairs"]
    lines = [f"medspaCy {result['medspacy']} ({result['python']}); corpus "
             f"{result['utterances']} utterances, {acc['ours']['pairs']} (symptom, assertion)"
             " pairs", "", "Accuracy", head,
             row("symptom found", [acc[k]["detected"] for k in keys]),
             row("exact assertion", [acc[k]["exact"] for k in keys]),
             row("coarse class", [acc[k]["coarse"] for k in keys]),
             row(f"exact, pairs all found ({common})",
                 [acc[k]["all_found"]["exact"] for k in keys]),
             row(f"coarse, pairs all found ({common})",
                 [acc[k]["all_found"]["coarse"] for k in keys]),
             row("coarse in context (answer words too)",
                 [result["ours_coarse_in_context"], "-", "-"])]
    for name in acc["ours"]["by_assertion"]:
        n = acc["ours"]["by_assertion"][name]["pairs"]
        lines.append(row(f"  {name} ({n}): found / exact", [
            f"{acc[k]['by_assertion'][name]['detected']}/{acc[k]['by_assertion'][name]['exact']}"
            for k in keys]))
    ours, ms = start["ours"], [start[r] for r in RULE_SETS]
    lines += ["", f"Start-up and memory (fresh processes, median of {ours['processes']})", head,
              row("import (ms)", [ours["ms"]["import_interpret"],
                                  *(s["ms"]["import_medspacy"] for s in ms)]),
              row("build matchers / load + rules (ms)", [
                  ours["ms"]["build_lexicon"],
                  *(round(s["ms"]["load"] + s["ms"]["add_rules"], 2) for s in ms)]),
              row("first utterance (ms)", [ours["ms"]["first_interpret"],
                                           *(s["ms"]["first_doc"] for s in ms)]),
              row("ready: all three (ms)", [ours["interpreter_ready_ms"],
                                            *(s["ready_ms"] for s in ms)]),
              row("process wall, python to exit (ms)", [ours["ms"]["process_wall"],
                                                        *(s["ms"]["process_wall"] for s in ms)]),
              row("RSS bare python (MB)", [ours["rss_mb"]["python"],
                                           *(s["rss_mb"]["python"] for s in ms)]),
              row("RSS ready (MB)", [ours["rss_mb"]["first_interpret"],
                                     *(s["rss_mb"]["first_doc"] for s in ms)]),
              row("added by the interpreter (MB)", [ours["interpreter_adds_mb"],
                                                    *(s["adds_mb"] for s in ms)]),
              f"  ours: ready excludes load_dialogs ({ours['ms']['load_dialogs']} ms), which the "
              "assistant does either way; RSS ready includes the dialogs and pydantic",
              "  medspaCy: pydantic imported first (the project has it); added = RSS ready - "
              "RSS after pydantic",
              "", f"Time per utterance (ms; median of {result['passes']} passes each)", head,
              row("p50", [lat[k]["p50"] for k in keys]),
              row("p95", [lat[k]["p95"] for k in keys]),
              row("max", [lat[k]["max"] for k in keys])]
    wrong = result["medspacy_right_ours_wrong"]
    lines += ["", f"Pairs where medspaCy is right and ours is wrong: {len(wrong)} (ours right "
              "and medspaCy wrong, coarse: " + ", ".join(
                  f"{r} {n}" for r, n in result["ours_right_medspacy_wrong"].items()) + ")"]
    for w in wrong:
        lines.append(f"  [{w['at']}] {w['say']!r}: {w['symptom']} {w['labelled']} "
                     f"({COARSE[w['labelled']]}); ours {w['ours'] or 'not found'}; "
                     + "; ".join(f"{r} {w[r] or 'not found'}" for r in RULE_SETS))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.negation_choice", description=__doc__.split("\n")[0],
        epilog="the medspaCy virtualenv: python3 -m venv /tmp/medspacy-venv && "
               "/tmp/medspacy-venv/bin/pip install medspacy==1.3.1")
    parser.add_argument("--medspacy-python", metavar="PATH", required=True,
                        help="python of a virtualenv with medspaCy (see this module's docstring)")
    parser.add_argument("--processes", type=int, default=5,
                        help="fresh processes for start-up and memory, each")
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    result = compare(args.medspacy_python, args.processes, args.passes)
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
