"""What an answer means: the step between hearing and the dialog.

Older adults rarely answer a health question with one word. This turns a
whole utterance (typed, or a recognizer's text) into an `Interpretation`:
the answer words said, a request to hear the question again, commands given
as commands, and every symptom mentioned with its assertion (present,
passed, denied, long-standing, uncertain, hypothetical, someone else's) and
the words that decided it. It follows the ConText idea (Harkema et al.,
2009: a trigger word changes the symptoms after it, up to the end of the
clause) over the vocabulary in `dialogs/understanding.yaml`. Pure and
deterministic: text and words in, meaning out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from assistant.lexicon import Lexicon
from assistant.utterance import (
    COUNTING,
    Assertion,
    Clause,
    Interpretation,
    Mention,
    Span,
    gap,
    negative,
    split_clauses,
)
from assistant.words import PhraseIndex, tokens

__all__ = ["Interpretation", "Mention", "interpret"]

ECHO_WORDS_AFTER = 3  # "my face is fine": the words after a symptom that may deny it


@dataclass(frozen=True)
class _Found:
    symptom: str
    start: int
    end: int
    inner: tuple[int, int] | None = None  # the words between a body part and its sign
    topic_only: bool = False  # a body part with no sign: counts only when denied



def interpret(text: str, lexicon: Lexicon, expecting: Collection[str] = (),
              answers: PhraseIndex | None = None,
              decisive: Collection[tuple[str, ...]] = ()) -> Interpretation:
    """The meaning of `text`. `expecting`: the symptoms the current question asks about,
    so that "it was drooping" at the face question is about the face; `answers`: the
    answer words at this question, when it has words of its own ("gradually" is a "no"
    to "did it come on suddenly?"), `decisive` those of them that are the question's own."""
    return _Reading(text, lexicon, frozenset(expecting), answers or lexicon.answers,
                    frozenset(decisive)).result()


class _Reading:
    def __init__(self, text: str, lexicon: Lexicon, expecting: frozenset[str],
                 answers: PhraseIndex, decisive: frozenset[tuple[str, ...]]) -> None:
        self.text = text
        self.lex = lexicon
        self.expecting = expecting
        self.answer_words = answers
        self.decisive = decisive
        self.words, self.clauses = split_clauses(tokens(text), lexicon)
        self.mods = {c: lexicon.modifiers.find(self.words, c.start, c.end) for c in self.clauses}
        self.times = {c: lexicon.time.find(self.words, c.start, c.end) for c in self.clauses}
        self.found = {c: self._symptoms_in(c) for c in self.clauses}

    def result(self) -> Interpretation:
        seen: dict[tuple[str, str], Mention] = {}
        for c in self.clauses:
            for f in self.found[c]:
                mention = self._mention(c, f)
                seen.setdefault((mention.symptom, mention.assertion), mention)
        mentions = _together(list(seen.values()), self.lex)
        asking = [c for c in self.clauses if self._asks_again(c)]
        answers = [a for c in self.clauses if c not in asking for a in self._answers(c)]
        commands = self._commands()
        firm = [label for label, _ in answers if label in ("yes", "no")]
        acknowledged = bool(self.lex.acknowledgements.find(self.words))
        last = answers[-1] if answers else None
        return Interpretation(
            self.text, last[0] if last else None, firm[:1] != firm[-1:],  # type: ignore[arg-type]
            last is not None and last[1] in self.lex.soft_no,
            last is not None and last[1] in self.decisive, bool(asking), acknowledged,
            tuple(dict.fromkeys(commands)), tuple(mentions), len(self.words))

    def _asks_again(self, c: Clause) -> bool:
        """"sorry?", "I didn't catch that": the clause asks to hear the question again."""
        said = tuple(self.words[c.start:c.end])
        if said in self.lex.repeat_requests or self._stripped(c) in self.lex.repeat_requests:
            return True
        return bool(self.lex.repeat_anywhere.find(self.words, c.start, c.end)) and not self.found[c]

    # --- symptoms ---------------------------------------------------------------------

    def _symptoms_in(self, c: Clause) -> list[_Found]:
        lex, words = self.lex, self.words
        masked = [(s, e) for s, e, _ in lex.not_symptoms.find(words, c.start, c.end)]
        timed = [(s, e) for s, e, _ in lex.time.find(words, c.start, c.end)]  # "out of the blue"

        def free(span: tuple[int, int, str]) -> bool:  # not inside "can't see my legs"
            return not any(span[0] < me and ms < span[1] for ms, me in masked)

        found = [_Found(name, s, e) for s, e, name in lex.symptom_phrases.find(words, c.start,
                                                                                c.end)
                 if free((s, e, name))]
        def untimed(span: tuple[int, int, str]) -> bool:
            return free(span) and not any(span[0] < te and ts < span[1] for ts, te in timed)

        parts = [p for p in lex.parts.find(words, c.start, c.end, overlapping=True) if untimed(p)]
        signs = [s for s in lex.signs.find(words, c.start, c.end, overlapping=True) if untimed(s)]
        window = lex.windows["part_sign"]
        for name in dict.fromkeys(label for *_, label in signs):
            pairs = [(gap(p, s), p, s) for p in parts if p[2] == name
                     for s in signs if s[2] == name and gap(p, s) >= 0]
            near = [pair for pair in pairs if pair[0] <= window]
            if near:
                _, p, s = min(near)
                start, end = min(p[0], s[0]), max(p[1], s[1])
                inner = (min(p[1], s[1]), max(p[0], s[0]))
                candidate = _Found(name, start, end, inner)
            elif name in self.expecting and not parts:
                s = next(s for s in signs if s[2] == name)  # "it was drooping", at the face
                candidate = _Found(name, s[0], s[1])
            else:
                continue
            if not any(f.symptom == name and _overlaps(f, candidate) for f in found):
                found.append(candidate)
        named = {f.symptom for f in found}
        for start, end, name in parts:  # "my face is fine": a body part, denied
            inside = any(f.start <= start and end <= f.end for f in found)
            if name not in named and not inside and self._denied_topic(c, start, end, found):
                found.append(_Found(name, start, end, topic_only=True))
                named.add(name)
        return found

    def _denied_topic(self, c: Clause, start: int, end: int, found: list[_Found]) -> bool:
        spans = [(f.start, f.end) for f in found]
        after = self._after(c, end)
        return self._before(c, start, ("negation",), spans) is not None or (
            after is not None and after[0] == "negation")

    def _mention(self, c: Clause, f: _Found) -> Mention:
        words = " ".join(self.words[f.start:f.end])
        if f.topic_only:
            return Mention(f.symptom, "denied", words, self._cue_of_denial(c, f))
        assertion, cue = self._modified(c, f)
        if assertion is None:
            assertion, cue = self._timed(c, f)
        symptom = self.lex.symptoms[f.symptom]
        if symptom.when_new and assertion in COUNTING and self._has_time(c, "onset"):
            return Mention(symptom.when_new, assertion, words, cue)
        return Mention(f.symptom, assertion, words, cue)

    def _modified(self, c: Clause, f: _Found) -> tuple[Assertion | None, str | None]:
        """Hypothetical, someone else's, denied or uncertain, from the words around it."""
        words = self.words
        if f.inner is not None:
            for s, e, label in self.mods[c]:
                if f.inner[0] <= s and e <= f.inner[1] and label in ("negation", "determiner"):
                    return "denied", " ".join(words[s:e])  # "my face didn't droop"
        before = self._before(c, f.start, ("hypothetical", "other_person", "negation",
                                           "determiner", "uncertain"))
        after = self._after(c, f.end)
        order: list[tuple[str, Assertion]] = [
            ("hypothetical", "hypothetical"), ("other_person", "other_person"),
            ("negation", "denied"), ("determiner", "denied"), ("uncertain", "uncertain")]
        for label, assertion in order:
            if before is not None and before[0] == label:
                return assertion, before[1]
            if after is not None and after[0] == label:
                return assertion, after[1]
        if after is None and f.end == c.end:  # "Chest pain? No." / "Blurry? Maybe."
            echo = self._echo(c, f)
            if echo:
                return echo
        return None, None

    def _before(self, c: Clause, start: int, labels: Sequence[str],
                spans: Sequence[tuple[int, int]] | None = None) -> tuple[str, str] | None:
        """The nearest trigger before `start` in this clause whose scope reaches it."""
        intensified = bool(self.lex.intensifiers.find(self.words, c.start, c.end))
        best: tuple[str, str] | None = None
        if spans is None:
            spans = [(f.start, f.end) for f in self.found[c] if not f.topic_only]
        for s, e, label in self.mods[c]:
            if label not in labels or s >= start or start - e > self.lex.windows[label]:
                continue
            if e > start and any(negative(w) for w in self.words[start:e]):
                continue  # the negative word is the symptom's own ("I haven't been able to move")
            if any(s < fe and fs < e and fs != start for fs, fe in spans):
                continue  # part of another symptom's words
            between = self.words[e:start]
            if label == "determiner" and any(w in self.lex.new_statement_words for w in between):
                continue  # "no, my chest hurts": a "no", then a new statement
            if label == "other_person" and any(w in self.lex.first_person for w in between):
                continue  # "my husband says my speech is slurred": the person's own
            if intensified and self.words[s:e] == ["never"]:
                continue  # "I've never had a headache like this"
            if _blocked(self.mods[c], e, start):
                continue
            best = (label, " ".join(self.words[s:e]))
        return best

    def _after(self, c: Clause, end: int) -> tuple[str, str] | None:
        limit = min(c.end, end + ECHO_WORDS_AFTER)
        for s, e, label in self.lex.after.find(self.words, end, c.end):
            if s >= limit:
                break
            if label in ("negation", "uncertain") and all(
                    w in ("is", "are", "was", "its", "it", "seems", "feels", "has", "been")
                    for w in self.words[end:s]):
                return label, " ".join(self.words[s:e])
            return None
        return None

    def _after_words(self, c: Clause, end: int) -> str:
        after = self._after(c, end)
        return after[1] if after else ""

    def _echo(self, c: Clause, f: _Found) -> tuple[Assertion, str] | None:
        """A clause of its own right after the symptom that only denies or doubts it:
        "Drooping? No." (said back as a question, then denied), or "Blurry? Maybe."
        """
        index = self.clauses.index(c)
        if index + 1 >= len(self.clauses):
            return None
        nxt = self.clauses[index + 1]
        said = " ".join(self.words[nxt.start:nxt.end])
        for s, e, label in self.lex.after.find(self.words, nxt.start, nxt.end):
            if (s, e) != (nxt.start, nxt.end):
                continue
            if label == "uncertain":
                return "uncertain", said
            if label == "negation" and f.start == c.start:
                return "denied", said
        return None

    def _cue_of_denial(self, c: Clause, f: _Found) -> str | None:
        before = self._before(c, f.start, ("negation",))
        return before[1] if before else self._after_words(c, f.end) or None

    # --- time ---------------------------------------------------------------------------

    def _cues_for(self, c: Clause) -> list[Span]:
        """Time words of this clause, passed or worse words said later, and time words
        said in a clause of their own next to it ("my face drooped. This morning.")."""
        index = self.clauses.index(c)
        cues = list(self.times[c])
        for other in self.clauses[index + 1:]:
            if self.found[other]:
                cues += [t for t in self.times[other] if t[2] in ("passed", "worse")]
            else:
                cues += self.times[other]
        for other in reversed(self.clauses[:index]):
            if self.found[other]:
                break
            cues += self.times[other]
        return cues

    def _has_time(self, c: Clause, kind: str) -> bool:
        return any(label == kind for *_, label in self._cues_for(c))

    def _timed(self, c: Clause, f: _Found) -> tuple[Assertion, str | None]:
        cues = self._cues_for(c)
        first = {label: " ".join(self.words[s:e]) for s, e, label in reversed(cues)}
        if "worse" in first:
            return "present", first["worse"]
        recent = first.get("onset") or first.get("current")
        if "passed" in first and (recent or "long_standing" not in first):
            return "passed", " ".join(x for x in (recent, first["passed"]) if x)
        if recent:
            return "present", recent
        if "long_standing" in first:
            return "long_standing", first["long_standing"]
        return "present", None

    # --- answers, commands ------------------------------------------------------------------

    def _answers(self, c: Clause) -> list[tuple[str, tuple[str, ...]]]:
        """(answer, the words that gave it) in the order said."""
        stripped = self._stripped(c)
        alone = None if stripped in self.decisive else self.lex.answers_alone.get(stripped)
        if alone:
            return [(alone, stripped)]
        spans = [(f.start, f.end) for f in self.found[c] if not f.topic_only]
        asking = [s for s, _, label in self.mods[c] if label == "hypothetical"]
        end = min(asking, default=c.end)  # "what should I do if ...": a question, not an answer
        found = []
        for s, e, label in self.answer_words.find(self.words, c.start, end):
            if any(s < fe and fs < e for fs, fe in spans):
                continue  # "I can't" inside "I can't move my leg"
            if label == "yes" and self._before(c, s, ("negation", "determiner"), spans):
                continue  # "it didn't come on suddenly": a negated yes is no yes
            found.append((label, tuple(self.words[s:e])))
        return found

    def _stripped(self, c: Clause) -> tuple[str, ...]:
        s, e = self._strip(c.start, c.end)
        return tuple(self.words[s:e])

    def _strip(self, start: int, end: int) -> tuple[int, int]:
        """Without the fillers around it: "can we stop please" is "stop"."""
        fillers = self.lex.fillers
        changed = True
        while changed and start < end:
            changed = False
            lead = fillers.at(self.words, start, end)
            if lead and start + len(lead[0][0]) < end:
                start += len(lead[0][0])
                changed = True
            for size in range(min(4, end - start - 1), 0, -1):
                tail = tuple(self.words[end - size:end])
                if any(p == tail for p, _ in fillers.at(self.words, end - size, end)):
                    end -= size
                    changed = True
                    break
        return start, end

    def _commands(self) -> list[str]:
        lex = self.lex
        whole = lex.command_phrases.get(tuple(self.words[slice(*self._strip(0, len(self.words)))]))
        if whole:
            return [whole]
        out: list[str] = []
        for c in self.clauses:
            command = self._clause_command(c)
            if command:
                out.append(command)
            if command in ("help", "emergency"):
                continue
            for s, _, name in lex.commands_anywhere.find(self.words, c.start, c.end):
                if self._before(c, s, ("negation", "determiner", "hypothetical")) is None:
                    out.append(name)  # "you're going too fast for me"
            for s, e, _ in lex.emergency_anywhere.find(self.words, c.start, c.end):
                before = self._before(c, s, ("hypothetical", "other_person", "negation",
                                             "determiner", "uncertain"))
                after = self._after(c, e)
                if after is not None and after[0] == "negation":
                    continue
                if before is None:
                    out.append("emergency")
                elif before[0] == "other_person":
                    continue  # "my neighbour had to call an ambulance"
                elif before[0] in ("hypothetical", "uncertain"):
                    out.append("help")  # "should I call an ambulance?": ask, don't assume
        return out

    def _clause_command(self, c: Clause) -> str | None:
        lex = self.lex
        raw = tuple(self.words[c.start:c.end])
        s, e = self._strip(c.start, c.end)
        for candidate in (raw, tuple(self.words[s:e])):
            if candidate in lex.command_phrases:
                return lex.command_phrases[candidate]
        covered = self._covered(c)
        for phrase, label in lex.commands.at(self.words, s, e):  # "stop, I feel sick"
            if all(covered[i - c.start] for i in range(s + len(phrase), e)):
                return label
        return None

    def _covered(self, c: Clause) -> list[bool]:
        """Words accounted for by a symptom, an answer, a time or a filler."""
        covered = [w in self.lex.first_person for w in self.words[c.start:c.end]]
        spans: list[tuple[int, int]] = [(f.start, f.end) for f in self.found[c]]
        spans += [(s, e) for s, e, _ in self.times[c]]
        spans += [(s, e) for s, e, _ in self.lex.fillers.find(self.words, c.start, c.end)]
        spans += [(s, e) for s, e, _ in self.lex.answers.find(self.words, c.start, c.end)]
        for s, e in spans:
            for i in range(s, e):
                covered[i - c.start] = True
        return covered


def _together(mentions: list[Mention], lex: Lexicon) -> list[Mention]:
    """Two complaints that together are a red flag ("a swollen calf, and I'm out of breath")."""
    counting = {m.symptom: m for m in mentions if m.counts}
    for m in list(counting.values()):
        for other, means in lex.symptoms[m.symptom].together.items():
            if other in counting and means not in counting:
                words = f"{m.words} ... {counting[other].words}"
                counting[means] = Mention(means, "present", words, m.cue or counting[other].cue)
                mentions.append(counting[means])
    return mentions


def _overlaps(a: _Found, b: _Found) -> bool:
    return a.start < b.end and b.start < a.end


def _blocked(mods: list[Span], start: int, end: int) -> bool:
    """A pseudo-trigger ("won't go away") between a trigger and its symptom ends its scope."""
    return any(label == "pseudo" and start <= s and e <= end for s, e, label in mods)
