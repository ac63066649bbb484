"""`python -m bench.interpretation`: how fast, how big and how right the interpreter is.

Every utterance goes through `assistant.interpret.interpret` before the dialog
can answer, so its time is part of the gap the user waits through, its set-up
is part of the cold start, and its assertions (present, denied, passed ...)
decide whether a red flag counts. The figures: time per utterance over the
whole answer corpus (tests/corpus/utterances.yaml) at each utterance's own
moment, `DialogMachine.hear` end to end, the cost of loading the dialogs and
building the lexicon and the memory they add (fresh processes, medians), and
assertion accuracy on the corpus's labelled symptoms. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.dialog_data import Dialogs, load_dialogs
from assistant.grammar import lexicon_and_grammar
from assistant.interpret import interpret
from assistant.words import PhraseIndex

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_PATH = REPO_ROOT / "tests" / "corpus" / "utterances.yaml"
# The classes that lead to different care: a red flag that counts (now, or came and went),
# one denied, one to ask "is it new?" about, and one that is not the person's own fact.
COARSE = {"present": "counts", "passed": "counts", "denied": "denied",
          "long_standing": "long_standing", "uncertain": "other", "hypothetical": "other",
          "other_person": "other"}
Found = Collection[tuple[str, str]]  # (symptom, assertion) pairs an interpreter reports


def load_corpus(path: Path = CORPUS_PATH) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text("utf-8")))


@dataclass(frozen=True)
class Pair:
    """One labelled (symptom, assertion) of one corpus entry: the unit accuracy counts."""

    entry: int
    say: str
    at: str
    symptom: str
    assertion: str


def pairs_of(corpus: Sequence[dict[str, Any]]) -> list[Pair]:
    return [Pair(i, e["say"], e["at"], symptom, assertion) for i, e in enumerate(corpus)
            for symptom, assertion in (e.get("symptoms") or {}).items()]


@dataclass(frozen=True)
class Verdict:
    detected: bool  # the symptom is reported at all
    exact: bool  # ... with the labelled assertion
    coarse: bool  # ... with an assertion of the labelled coarse class


def judge(pair: Pair, found: Found) -> Verdict:
    said = {a for s, a in found if s == pair.symptom}
    return Verdict(bool(said), pair.assertion in said,
                   COARSE[pair.assertion] in {COARSE[a] for a in said})


def score(pairs: Sequence[Pair], found: Mapping[int, Found]) -> dict[str, Any]:
    """Exact and coarse accuracy over `pairs`, overall and per labelled assertion."""
    verdicts = [judge(p, found[p.entry]) for p in pairs]
    n = max(1, len(pairs))
    by: dict[str, dict[str, int]] = {}
    for p, v in zip(pairs, verdicts, strict=True):
        row = by.setdefault(p.assertion, {"pairs": 0, "detected": 0, "exact": 0, "coarse": 0})
        row["pairs"] += 1
        row["detected"] += v.detected
        row["exact"] += v.exact
        row["coarse"] += v.coarse
    return {"pairs": len(pairs),
            "detected": round(sum(v.detected for v in verdicts) / n, 4),
            "exact": round(sum(v.exact for v in verdicts) / n, 4),
            "coarse": round(sum(v.coarse for v in verdicts) / n, 4),
            "by_assertion": dict(sorted(by.items(), key=lambda kv: -kv[1]["pairs"]))}


ANSWER_CLASS = {"yes": "counts", "no": "denied", "fine": "denied", "unsure": "other"}


def in_context(pairs: Sequence[Pair], found: Mapping[int, Found],
               answers: Mapping[int, str | None], dialogs: Dialogs) -> float:
    """Coarse accuracy as the dialog sees it (the rule of tests/test_corpus.py): a symptom
    may be carried by a related one that answers the same question ("short of breath" at
    the breathing question), or, at its own question, by the answer word alone ("no, my
    breathing's fine" denies breathing trouble)."""
    words = dialogs.words.symptoms
    right = 0
    for p in pairs:
        own = p.at in words[p.symptom].answers
        family = {p.symptom, *(n for n, s in words.items() if (own and p.at in s.answers)
                                or s.when_new == p.symptom or p.symptom in s.together.values()
                                or n == words[p.symptom].when_new)}
        wanted = COARSE[p.assertion]
        said = {COARSE[a] for s, a in found[p.entry] if s in family}
        right += wanted in said or (own and ANSWER_CLASS.get(answers[p.entry] or "") == wanted)
    return round(right / max(1, len(pairs)), 4)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, as bench/__main__.py computes it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def latency(per_item: Sequence[Sequence[float]]) -> dict[str, float]:
    """Each item's median over the passes, then the median and p95 over the items (ms)."""
    medians = [statistics.median(times) for times in per_item]
    return {"p50": round(percentile(medians, 50), 3), "p95": round(percentile(medians, 95), 3),
            "max": round(max(medians), 3), "items": len(medians),
            "passes": min(len(t) for t in per_item)}


# --- the corpus at its moments ------------------------------------------------------------


@dataclass(frozen=True)
class MomentInputs:
    """What `DialogMachine.hear` passes to `interpret` at a moment besides the text."""

    expecting: frozenset[str]
    answers: PhraseIndex | None
    decisive: frozenset[tuple[str, ...]]


def _driver() -> Any:
    """tests/corpus_driver.py reaches a moment as a person would (answers, silence)."""
    tests = str(REPO_ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import corpus_driver

    return corpus_driver


def moment_inputs(dialogs: Dialogs, moments: Iterable[str]) -> dict[str, MomentInputs]:
    from assistant.dialog import DialogMachine
    from assistant.moments import own_words_at

    reach = _driver().reach
    out = {}
    for at in sorted(set(moments)):
        machine = reach(DialogMachine(dialogs), dialogs, at).machine
        own = own_words_at(dialogs, machine.model.state, machine.model.pending)
        out[at] = MomentInputs(machine.expecting(), own.index if own else None,
                               own.own if own else frozenset())
    return out


def interpret_corpus(corpus: Sequence[dict[str, Any]], passes: int,
                     dialogs: Dialogs | None = None) -> tuple[
                         dict[int, Found], dict[int, str | None], list[list[float]]]:
    """What the interpreter finds in each entry (symptoms, answer word), and each entry's
    times (ms) over `passes`, after the untimed pass that found them, so that first-call
    costs are the cold start's, not these."""
    dialogs = dialogs or load_dialogs()
    lexicon, _ = lexicon_and_grammar(dialogs.words, "911")
    inputs = moment_inputs(dialogs, (e["at"] for e in corpus))
    found: dict[int, Found] = {}
    answers: dict[int, str | None] = {}
    for i, e in enumerate(corpus):
        m = inputs[e["at"]]
        meaning = interpret(e["say"], lexicon, m.expecting, m.answers, m.decisive)
        found[i] = {(x.symptom, x.assertion) for x in meaning.mentions}
        answers[i] = meaning.answer
    times: list[list[float]] = [[] for _ in corpus]
    clock = time.perf_counter_ns
    for _ in range(passes):
        for i, e in enumerate(corpus):
            m = inputs[e["at"]]
            started = clock()
            interpret(e["say"], lexicon, m.expecting, m.answers, m.decisive)
            times[i].append((clock() - started) / 1e6)
    return found, answers, times


def hear_times(corpus: Sequence[dict[str, Any]], passes: int,
               dialogs: Dialogs | None = None) -> list[list[float]]:
    """`DialogMachine.hear` per entry (ms), at its moment reached afresh each time: what
    the user waits for between the end of the answer and the first word of the reply."""
    from assistant.dialog import DialogMachine
    from assistant.ports import Heard

    dialogs = dialogs or load_dialogs()
    reach = _driver().reach
    times: list[list[float]] = [[] for _ in corpus]
    for _ in range(passes):
        for i, e in enumerate(corpus):
            conv = reach(DialogMachine(dialogs), dialogs, e["at"])
            listening = conv.last.listening
            now = conv.now + min(1.0, max(0.0, (listening.until - conv.now) / 2))
            started = time.perf_counter_ns()
            conv.machine.hear(Heard(e["say"], None), now)
            times[i].append((time.perf_counter_ns() - started) / 1e6)
    return times


# --- start-up and memory, in fresh processes ---------------------------------------------

_STARTUP = r'''
import json, sys, time
started = time.perf_counter()

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

marks, times = {"python": rss()}, {}
def step(name, then):
    times[name] = round((time.perf_counter() - then) * 1000, 2)
    marks[name] = round(rss(), 2)
    return time.perf_counter()

t = time.perf_counter()
from assistant.dialog_data import load_dialogs
t = step("import_dialogs", t)
dialogs = load_dialogs()
t = step("load_dialogs", t)
from assistant.interpret import interpret
from assistant.lexicon import build_lexicon
t = step("import_interpret", t)
lexicon = build_lexicon(dialogs.words, ("911",))
t = step("build_lexicon", t)
interpret(sys.argv[1], lexicon)
t = step("first_interpret", t)
times["total"] = round((time.perf_counter() - started) * 1000, 2)
print(json.dumps({"ms": times, "rss_mb": marks}))
'''
_HEAP = r'''
import tracemalloc
from assistant.dialog_data import load_dialogs
from assistant.lexicon import build_lexicon
words = load_dialogs().words
tracemalloc.start()
lexicon = build_lexicon(words, ("911",))
print(tracemalloc.get_traced_memory()[0] / 2**20)
'''
WARM_UP_TEXT = "no, my face didn't droop but my leg went weak this morning"


def startup_once(python: str = sys.executable) -> dict[str, Any]:
    """One fresh process: import, load and build times (ms) and RSS after each (MB)."""
    started = time.perf_counter()
    out = subprocess.run([python, "-c", _STARTUP, WARM_UP_TEXT], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True)
    run: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    run["ms"]["process_wall"] = round((time.perf_counter() - started) * 1000, 1)
    return run


def medians(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure of several `startup_once`-shaped runs."""
    return {group: {k: round(statistics.median(r[group][k] for r in runs), 2)
                    for k in runs[0][group]} for group in ("ms", "rss_mb")}


def lexicon_heap_mb() -> float:
    """The Python heap the lexicon holds (tracemalloc, in a process of its own, since
    tracing slows everything it watches)."""
    out = subprocess.run([sys.executable, "-c", _HEAP], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 2)


def summarize_startup(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    both = medians(runs)
    ms, rss = both["ms"], both["rss_mb"]
    return {**both, "processes": len(runs),
            "interpreter_ready_ms": round(
                ms["import_interpret"] + ms["build_lexicon"] + ms["first_interpret"], 2),
            "interpreter_adds_mb": round(rss["first_interpret"] - rss["load_dialogs"], 2),
            "lexicon_heap_mb": lexicon_heap_mb()}


def startup(processes: int) -> dict[str, Any]:
    """Start-up and memory, median of `processes` fresh processes."""
    return summarize_startup([startup_once() for _ in range(processes)])


# --- all together ----------------------------------------------------------------------------


def measure(passes: int = 5, hear_passes: int = 3, processes: int = 5) -> dict[str, Any]:
    """Every figure of this module: flat headline figures, plus `details`."""
    corpus = load_corpus()
    dialogs = load_dialogs()
    found, answers, times = interpret_corpus(corpus, passes, dialogs)
    pairs = pairs_of(corpus)
    accuracy = {**score(pairs, found),
                "coarse_in_context": in_context(pairs, found, answers, dialogs)}
    interp = latency(times)
    slowest = max(range(len(corpus)), key=lambda i: statistics.median(times[i]))
    hear = latency(hear_times(corpus, hear_passes, dialogs)) if hear_passes else {}
    start = startup(processes)
    return {
        "interpretation_ms_p50": interp["p50"], "interpretation_ms_p95": interp["p95"],
        "hear_ms_p50": hear.get("p50"), "hear_ms_p95": hear.get("p95"),
        "assertion_accuracy": accuracy["exact"], "assertion_accuracy_coarse": accuracy["coarse"],
        "interpreter_ready_ms": start["interpreter_ready_ms"],
        "interpreter_adds_mb": start["interpreter_adds_mb"],
        "details": {"interpretation": {
            "latency_ms": {**interp, "slowest": corpus[slowest]["say"]},
            "hear_ms": hear, "accuracy": accuracy, "startup": start,
            "corpus": str(CORPUS_PATH.relative_to(REPO_ROOT)), "utterances": len(corpus)}},
    }


def report(figures: dict[str, Any]) -> str:
    d = figures["details"]["interpretation"]
    acc, start, lat, hear = d["accuracy"], d["startup"], d["latency_ms"], d["hear_ms"]
    lines = [
        f"corpus: {d['corpus']}, {d['utterances']} utterances, {acc['pairs']} labelled "
        "(symptom, assertion) pairs",
        f"interpret() per utterance: p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']}"
        f" ms (median of {lat['passes']} passes each; slowest: {lat['slowest']!r})",
    ]
    if hear:
        lines.append(f"DialogMachine.hear() end to end: p50 {hear['p50']} ms, p95 {hear['p95']}"
                     f" ms, max {hear['max']} ms ({hear['passes']} passes)")
    ms, rss = start["ms"], start["rss_mb"]
    lines += [
        f"fresh process (median of {start['processes']}): import dialog_data "
        f"{ms['import_dialogs']} ms, load_dialogs {ms['load_dialogs']} ms, import interpret "
        f"{ms['import_interpret']} ms, build_lexicon {ms['build_lexicon']} ms, first interpret "
        f"{ms['first_interpret']} ms; process wall {ms['process_wall']} ms",
        f"RSS: bare python {rss['python']} MB, +dialog_data {rss['import_dialogs']}, +dialogs "
        f"{rss['load_dialogs']}, +interpret {rss['import_interpret']}, +lexicon "
        f"{rss['build_lexicon']}, after first call {rss['first_interpret']} MB; the "
        f"interpreter adds {start['interpreter_adds_mb']} MB (lexicon heap "
        f"{start['lexicon_heap_mb']} MB by tracemalloc)",
        f"assertion accuracy (the symptom itself, with its assertion): exact {acc['exact']}, "
        f"coarse {acc['coarse']}, symptom found {acc['detected']}; coarse in context (a "
        f"related symptom, or the answer word at its own question) {acc['coarse_in_context']}",
        f"  {'labelled':14} {'pairs':>5} {'found':>6} {'exact':>6} {'coarse':>6}",
    ]
    for name, row in acc["by_assertion"].items():
        lines.append(f"  {name:14} {row['pairs']:5} {row['detected']:6} {row['exact']:6} "
                     f"{row['coarse']:6}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.interpretation",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--hear-passes", type=int, default=3,
                        help="passes timing DialogMachine.hear (0: skip)")
    parser.add_argument("--processes", type=int, default=5,
                        help="fresh processes for start-up and memory")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.passes, args.hear_passes, args.processes)
    print(report(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
