"""Two English recognizers on every turn: Moonshine hears, pocketsphinx checks.

Why two: measured on real voices (bench/side_by_side.md, "Moonshine"), Moonshine's
neural model hears yes and no far better than pocketsphinx, above all with a kitchen's
noise, but alone it takes more of a television's words for answers, and now and then
hears "yeah" in a "no" said over one. pocketsphinx, limited to the phrases of the moment,
hears differently. An answer both agree on is sure (the same phrase, or two phrases of one
answer: Moonshine's "yes" and pocketsphinx's "yep"). Taken, but not sure (so a "no" to a
red flag is confirmed): one Moonshine hears twice (the second time without the turn's
first moment; never its "yeah", which it writes for what it cannot make out); a longer
phrase pocketsphinx heard whose letters Moonshine's transcript mostly shares ("emergency"
written "they merged and see": its words were heard, not the phrase); and a phrase
pocketsphinx heard fairly surely when Moonshine, whose own transcript was no phrase, finds
it the likeliest of the turn's on the audio (it verifies it: assistant/asr/phrase_scoring.py;
most often a television or a kitchen behind the answer, where Moonshine writes the noise
too). A turn not heard so is heard again by both, cut to its loudest stretch
(assistant/asr/loudest.py: the answer said over a television is louder than it); what is
taken there is taken as above, not sure. Anything else is no more than a hint, reported
below the floor, which the dialog treats as unclear (asks again, or in the routine pauses
and asks): never the nearest answer, never silently dropped.

The rule is pure (`cross_check`); `CrossCheckedRecognizer` feeds both engines the same
audio and applies it. Should Moonshine fail in the middle of a session, the person is not
left unheard: it says so once and hears with pocketsphinx alone, as before Moonshine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from assistant.asr.base import SAMPLE_RATE, SAMPLE_WIDTH, Hypothesis, Recognizer
from assistant.asr.loudest import loudest_stretch
from assistant.asr.moonshine_engine import MoonshineRecognizer
from assistant.ports import Vocabulary
from assistant.words import normalize

AGREED_CONFIDENCE = 0.95  # both models heard this phrase
HEARD_TWICE_CONFIDENCE = 0.75  # Moonshine twice, pocketsphinx otherwise: taken, not sure
HINT_BELOW_FLOOR = 0.01  # one model once: this far below the floor (unclear to the dialog)
# pocketsphinx's phrase is taken when Moonshine wrote something that sounds like it: only
# phrases this long (short words are too easily alike: "now" and "no"), this alike
SOUNDS_LIKE_MIN_LETTERS = 6
SOUNDS_LIKE_MIN_RATIO = 0.55
# Moonshine is asked to confirm pocketsphinx's phrase only when pocketsphinx was this sure of
# it: below, strangers' words it confirmed outnumbered answers (bench/side_by_side.md)
VERIFY_CHECKER_MIN = 0.5
# the loudest stretch is heard again only when it leaves out at least this much of the turn
LOUDEST_LEAVES_OUT_MS = 200
# Moonshine's word for a sound it cannot make out: on a stretch, all of the answers it heard
# twice wrongly were this one; on whole turns, a "no" said over a television or a kitchen
# 10 times and strangers' words 7 times, against 26 right "yes" (bench/side_by_side.md). So
# it is never taken on Moonshine's word alone: pocketsphinx must hear a "yes" too.
MOONSHINE_FILLER = "yeah"


@dataclass(frozen=True)
class Opinions:
    """What each model made of one turn."""

    moonshine: str  # the phrase Moonshine's transcript is, or ""
    moonshine_again: bool  # ... and heard again without the turn's first moment
    checker: Hypothesis  # pocketsphinx's answer, with its confidence
    transcript: str = ""  # what Moonshine wrote
    checker_verified: bool = False  # Moonshine, scoring the phrases, confirms the checker's


def letters(text: str) -> str:
    """The words' letters run together ("call 911" -> "callnineoneone")."""
    return re.sub(r"[^a-z]", "", normalize(text))


def sounds_like(transcript: str, phrase: str) -> bool:
    """The transcript's letters mostly those of a long enough phrase, in order."""
    wanted = letters(phrase)
    return (len(wanted) >= SOUNDS_LIKE_MIN_LETTERS and SequenceMatcher(
        None, letters(transcript), wanted).ratio() >= SOUNDS_LIKE_MIN_RATIO)


def agree(heard: str, checker: Hypothesis,
          same_answers: Sequence[Sequence[str]] = ()) -> bool:
    """Both models heard the same phrase, or two phrases of one answer ("yes", "yep")."""
    if not heard or not checker.text:
        return False
    ours, theirs = normalize(heard), normalize(checker.text)
    return ours == theirs or any(
        ours in group and theirs in group
        for group in ({normalize(p) for p in phrases} for phrases in same_answers))


def heard_twice(opinions: Opinions) -> bool:
    """Moonshine heard its phrase twice, and it is not its filler ("yeah")."""
    return bool(opinions.moonshine) and opinions.moonshine_again and normalize(
        opinions.moonshine) != MOONSHINE_FILLER


def cross_check(opinions: Opinions, floor: float,
                same_answers: Sequence[Sequence[str]] = ()) -> Hypothesis:
    """The turn's answer from the two opinions (see the module's docstring).
    `same_answers`: the moment's groups of phrases that give one answer."""
    heard, checker = opinions.moonshine, opinions.checker
    hint = max(0.0, floor - HINT_BELOW_FLOOR)
    if agree(heard, checker, same_answers):
        return Hypothesis(heard, AGREED_CONFIDENCE, final=True)
    if heard_twice(opinions):
        return Hypothesis(heard, HEARD_TWICE_CONFIDENCE, final=True)
    if heard:
        return Hypothesis(heard, hint, final=True)
    if checker.text and (checker.confidence or 0.0) >= floor and sounds_like(
            opinions.transcript, checker.text):
        return Hypothesis(checker.text, HEARD_TWICE_CONFIDENCE, final=True)
    if checker.text and opinions.checker_verified and (
            checker.confidence or 0.0) >= VERIFY_CHECKER_MIN:
        return Hypothesis(checker.text, HEARD_TWICE_CONFIDENCE, final=True)
    if checker.text:
        return Hypothesis(checker.text, min(checker.confidence or 0.0, hint), final=True)
    return Hypothesis("", 0.0, final=True)


def loudest_check(opinions: Opinions, whole: Hypothesis,
                  same_answers: Sequence[Sequence[str]] = ()) -> Hypothesis:
    """The answer when the turn's loudest stretch was heard again (`opinions`) after the
    whole turn gave only `whole`, below the floor: taken, not sure, when both models agree
    on the stretch, Moonshine hears it twice there (but for its filler, "yeah") or confirms
    pocketsphinx's fairly sure phrase; else `whole`."""
    heard, checker = opinions.moonshine, opinions.checker
    if agree(heard, checker, same_answers) or heard_twice(opinions):
        return Hypothesis(heard, HEARD_TWICE_CONFIDENCE, final=True)
    if not heard and checker.text and opinions.checker_verified and (
            checker.confidence or 0.0) >= VERIFY_CHECKER_MIN:
        return Hypothesis(checker.text, HEARD_TWICE_CONFIDENCE, final=True)
    return whole


class CrossCheckedRecognizer:
    """Moonshine and a grammar recognizer (pocketsphinx) fed the same turn; `cross_check`."""

    name = "moonshine+pocketsphinx"
    # The turn listener's wait after an answer taken but not sure (assistant/listening.py):
    # as long as after "i don't". At its 720 ms one slow "not ... sure" of 60 was cut off
    # at "not", which Moonshine heard twice as "Yeah" (bench/side_by_side.md); that filler
    # is no longer taken, but a first word heard twice or verified still can be.
    unsure_pause_ms = 1500

    def __init__(self, moonshine: MoonshineRecognizer, checker: Recognizer,
                 notify: Callable[[str], None] = lambda message: None) -> None:
        self.moonshine = moonshine
        self.checker = checker
        self._notify = notify
        self.moonshine_failed = False
        self.min_confidence = max(moonshine.min_confidence, checker.min_confidence)
        # below the floor only the checker speaks: its own floor for a "stop" over a prompt
        self.interrupt_floor = min(checker.interrupt_floor, self.min_confidence)
        self.last: Opinions | None = None
        self._vocabulary = Vocabulary(())
        self._same_answers: tuple[tuple[str, ...], ...] = ()

    def begin(self, vocabulary: Vocabulary) -> None:
        self.moonshine.begin(vocabulary)
        self.checker.begin(vocabulary)
        self._vocabulary = vocabulary
        self._same_answers = vocabulary.same_answers

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self.moonshine.accept(pcm)
        self.checker.accept(pcm)
        return None  # no partials: the turn listener recognizes at pauses

    def end(self) -> Hypothesis:
        checker = self.checker.end()
        audio = self.moonshine.turn_audio()
        if self.moonshine_failed:
            return checker
        try:
            self.last = self._opinions(audio, checker)
        except Exception as exc:  # noqa: BLE001 - any failure of the library: hear on
            return self._without_moonshine(exc, checker)
        answer = cross_check(self.last, self.min_confidence, self._same_answers)
        if (answer.confidence or 0.0) >= self.min_confidence:
            return answer
        louder = loudest_stretch(audio)
        if len(louder) > len(audio) - SAMPLE_RATE * SAMPLE_WIDTH * LOUDEST_LEAVES_OUT_MS // 1000:
            return answer  # nothing quieter around it to leave out
        self.checker.begin(self._vocabulary)
        self.checker.accept(louder)
        checked_again = self.checker.end()
        try:
            loudest = self._opinions(louder, checked_again)
        except Exception as exc:  # noqa: BLE001
            return self._without_moonshine(exc, checker)
        return loudest_check(loudest, answer, self._same_answers)

    def _without_moonshine(self, failure: Exception, checker: Hypothesis) -> Hypothesis:
        """Moonshine failed: said once, and pocketsphinx's answer stands, now and after."""
        self.moonshine_failed = True
        self._notify(f"The Moonshine recognizer failed ({failure}); listening with "
                     f"pocketsphinx alone from now on.")
        return checker

    def _opinions(self, audio: bytes, checker: Hypothesis) -> Opinions:
        heard = self.moonshine.phrase_in(audio)
        transcript = self.moonshine.last_transcript
        # the second hearing only matters (and costs a decode) when they disagree, and never
        # for Moonshine's filler, which is not taken on its word alone
        again = bool(heard) and normalize(heard) != MOONSHINE_FILLER and not agree(
            heard, checker, self._same_answers) and self.moonshine.heard_again(audio, heard)
        # Moonshine wrote no phrase: does it confirm pocketsphinx's? (one batch decode)
        verified = not heard and bool(checker.text) and (
            checker.confidence or 0.0) >= VERIFY_CHECKER_MIN and self.moonshine.verifies(
            audio, checker.text)
        return Opinions(heard, again, checker, transcript, verified)
