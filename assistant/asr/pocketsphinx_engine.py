"""Offline recognition with pocketsphinx 5 and its bundled US English model.

Why it is built this way (figures from `python -m bench.hearing`, real voices
from Speech Commands; see bench/hearing.py for the method):

* **Grammar, not keyword spotting.** Each turn gets a JSGF grammar listing the
  phrases valid in the current dialog state, so "yes" can only be heard when a
  question was asked that "yes" answers.
* **A garbage branch of ordinary words.** The grammar also offers about 1000
  of the most frequent English words (from the language model that ships with
  pocketsphinx) at a low prior weight. A cough, the radio or "bird" then
  matches a garbage word instead of being forced into an answer, and `end()`
  returns an empty text. Measured against the alternatives: a phone loop made
  the search far slower than real time; 300 words let several times more
  strangers in; 3000 words rejected more real answers without catching more;
  one-or-two-word garbage rejected more real answers at the same false
  accepts, at twice the CPU.
* **Near-homophones are not garbage.** Words one sound away from a short
  answer ("now", "known", "yet" for "no" and "yes") are left out of the
  garbage: this acoustic model cannot tell them apart reliably, and as garbage
  they rejected more real answers than they caught strangers.
* **Confidence** is the acoustic log-likelihood margin between the path with
  the recognized phrase and the best garbage-only path over the same audio (a
  likelihood ratio against "some other common word"), mapped to 0..1 by a
  logistic curve. Grammar priors are left out so that a phrase among 150 is
  not less "confident" than among 20. The caller compares it with
  `min_confidence`. The grammar still counts, through the acoustic scores:
  pocketsphinx scores each frame against the best of the sounds its search
  has active in that frame, so every phrase that can go on after a bare "no"
  ("no it didn't", "no chest pain") lowers the score of "no" followed by
  silence, and with it the confidence (40 denials such as "no chest pain" took
  4 of the 40 real "no" clips below the floor). Computing every sound in every
  frame (`compallsen`) makes the score the grammar's own, but it cost the
  20-phrase vocabulary 0.15 of yes+no at the same floor (a smaller grammar's
  scores are inflated the other way, and the floor was chosen with that), and
  40 ms a turn; so it stays off and assistant/grammar.py keeps such phrases few.
* **Apostrophes restored.** The dialog core writes "i dont know"; each word
  is looked up in every apostrophe spelling the dictionary has ("don't"; "im"
  and "i'm"), and results are matched without apostrophes.
* **Whole-utterance decoding for the final answer.** Partials come from a live
  pass while audio arrives (for a quick end of turn); the final result decodes
  the buffered utterance again with whole-utterance cepstral normalization,
  which on the real clips raised "no" accuracy from 0.75 to 0.95 (in the
  experiment that compared the two).
* **Trimmed to the voice.** The final pass only sees the voiced stretch plus
  300 ms each side (`assistant.vad.trim_to_speech`): with the 1.5 s of room
  noise a patient turn listener passes on after an answer, yes+no accuracy
  fell from 0.90 to 0.68 untrimmed.
* **No bestpath rescoring**: the lattice pass lowered accuracy on real voices.
  A phone insertion penalty (`pip` < 1) looked better on the one-word clips
  but made multi-word phrases ("call 911", "say that again") unrecognizable,
  so it stays at 1.

* **Adapted to one voice only, when asked.** A global MLLR transform (`mllr=PATH`)
  trained on many other people's voices gained with the television on but lost in a quiet
  room (bench/side_by_side.md, "MLLR adaptation"); one learned from the person's own
  words (`run.py --learn-voice`, assistant/voice_learning.py) lost nothing in a quiet room
  and heard far more "yes" and "no" with a television on ("Learning one voice"). So the
  engine takes a transform only when the household has learned one.

The acoustic model loads once per `PocketsphinxRecognizer`; switching
vocabulary activates an already compiled grammar (`switch_cost_s` records it).
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.asr.base import (
    SAMPLE_RATE,
    Hypothesis,
    RecognizerUnavailable,
    UnknownWords,
    apostrophe_forms,
    clamp01,
    phrase_key,
    phrase_table,
)
from assistant.asr.pronounce import derived_pronunciation
from assistant.ports import Vocabulary
from assistant.vad import trim_to_speech

# Confidence floor from `python -m bench.hearing --split`, measured through the
# assistant's own turn listener: at 0.70, yes+no 0.887 with false accepts 0.013 (20
# phrases), 0.825 and 0.025 at the dialog's first question (367 phrases), 0.875 and
# 0.037 at the face question. The floors the rule picks on one speaker half range from
# 0.20 to 0.85 (too few clips to choose finely), so 0.70, the conservative end, stays:
# a stranger's word taken for "no" at a red-flag question is the costly error.
POCKETSPHINX_MIN_CONFIDENCE = 0.7
# Barge-in (the interrupt phrases only, heard by the turn listener, 0.3 s before and 1 s
# after each of the repository's clips; /tmp script in the note of 2026-12-03): of 40
# people saying "stop", 23 are heard at 0.70 or more and 6 more between 0.50 and 0.70;
# of 440 other words and noises, 1 reaches 0.70 and 2 more 0.50. At 0.50 a doubtful
# "stop" or "help" is asked about instead of going unheard, for 2 in 440 false starts.
POCKETSPHINX_INTERRUPT_FLOOR = 0.5

GARBAGE_SIZE = 1000  # frequent English words offered as "none of the phrases"
GARBAGE_WEIGHT = 1e-20  # their JSGF prior; pocketsphinx compresses JSGF weights strongly
NEAR_HOMOPHONE_MAX_PHONES = 4  # answers this short lose their one-sound neighbours from garbage
CONFIDENCE_SCALE = 0.02  # acoustic margin (pocketsphinx's log units) giving confidence 0.73
MIN_UTTERANCE_S = 0.1  # shorter than this cannot hold a word: answer "" without decoding
DITHER_RMS = 4.0  # faint noise (about -78 dBFS) added before decoding, see add_dither
MAX_CACHED_GRAMMARS = 64
# Garbage "words" made of the acoustic model's noise and mumble units, so a cough
# or a clatter has something better than a real word to match. No change on the
# real clips (the gate already drops most noise); fewer synthetic noise bursts
# were taken as "yep"/"nope" with them (7 of 18 rather than 10 of 18).
NOISE_WORDS = {"noise_": "+NSN+", "noise_noise_": "+NSN+ +NSN+", "mumble_": "+SPN+"}
# Pronunciations the bundled US English dictionary lacks, added as variants. British
# English says "can't" with the vowel of "father" (K AA N T), and the dictionary only
# has K AE N T: "I can't move my leg" in a British voice (espeak-ng "en", the voice the
# end-to-end tests answer in) matched nothing at the first question, and was heard
# whole (confidence 0.99) with this variant.
EXTRA_PRONUNCIATIONS = {"can't": ("K AA N T",)}

DECODER_SETTINGS: dict[str, Any] = {
    "bestpath": False,  # the lattice rescoring pass lowered accuracy on real voices
}

# The most frequent words of pocketsphinx's own en-us language model (from
# `frequent_words_from_lm(1200)`, a few rude words removed). Kept here so
# start-up does not load the 30 MB language model.
_FREQUENT_WORDS_TEXT = """
the to i and a of you that in it is for but know was have they on like be not it's so with
are one this he yeah just my we as what if do at or don't about i'm all think there would
from two me people can your get out no that's said up more when an had right well hundred
really has thousand will oh because how time them she been by some who their his were now
then go good mean than going her see could much other you're five got three even too only
want did him something very where here way which nine lot make say first years back any new
our also over into ah i've they're year thing still four should work things those take us
most didn't why these never twenty there's need after being can't okay little down kind
point actually many day off come same six before last he's look sure eight money doing
pretty around seven always guess life dollars long yes better probably every we're world
does anything maybe school great find doesn't though made big feel through thirty cause game
old put use different stuff ten home may might used am thought while best since man love own
getting another fifty few bad give part percent live family i'll tell ever gonna again went
someone help i'd keep everything try play hard done enough trying next end away its place
far forty talk ninety both real says country kids times least person bit such million high
exactly what's isn't told nothing friends believe let call having able show else watch ago
job nice start once whole house government problem looking change children each without days
found true saying between less week she's seen already wouldn't makes guy course care name
second came sixty pay wasn't talking until making seems eighty thanks either idea seventy
read yet definitely team working city mr wanted left remember huh fact night business months
state number against called half public understand everyone whatever er almost run friend
case took sometimes today must sorry god important wrong started heard haven't couple
minutes hi set reason question system together car games women war hope states hey stop
happened thank guys coming sort small won't fun hear york under let's quite during agree
free wow buy close past food top anyone hours you've saw side news kinda myself cool mind
thinking company deal whether comes happen interesting looks gets later taking young parents
phone ask stay matter please we've united especially power health area american rather
move open usually goes line fifteen sense using men wait story means couldn't however
somebody fine leave become playing lost level water living full often t head funny yourself
instead group college zero happy president easy ones others knew post month hit seem
supposed age needs room experience v asked computer support turn outside issue eat given
movie likely hand aren't white possible face market everybody book wants weeks gone tried
certain early police rest you'll future taken countries problems cost situation woman chance
sounds information child twelve third anyway type mother girl party players bring works
check watching win worked basically black hour lives eleven middle worth hello husband added
internet security based cut law son running control married soon body along paid season wife
spend history dog single learn behind example difficult front america themselves
clear huge wanna shows obama order although per played price class death they've plan human
jobs takes father local s south felt amount answer gave within music absolutely across
schools we'll longer economy kill topic knows hold morning pick ok unless late pounds meet
video office difference major town happens word hate companies needed known moment
completely low large general mine enjoy killed national dead building involved wish totally
died you'd walk air north education issues several political study certainly according
places mom service fight community imagine hell billion crazy moved kid c heart short ready
looked figure sit space cold ways lose sound students list baby gotta changed social drive
street alone worse cannot reading light research turned perhaps reality they'll books hot
current break spent amazing words sports energy lived simply boy process shot wonder
california dad add obviously similar stand higher feeling personal iraq questions listen
doctor university seeing risk strong average near decided relationship older die serious
build daughter player online summer expect available awesome inside military media fire test
fast save sex report hands private main oil financial n east minimum term u giving poor
favorite who's expected finally program interest choice red continue movies send industry
brother interested china common weird bought rate speak road attack itself sell door fall
lol entire shouldn't due americans ahead allowed decision opinion west brought special
economic anymore terms met nobody recently form forward worry de court starting view nearly
telling position girls store attention consider football miss perfect site sent bill himself
points waiting normal force easier trust sick damn film tax value series result worst fair
act won vote action mm smoking stupid trade except born smoke anybody eighteen wage miles
step return including changes evidence somewhere hurt members lots extra bank beautiful
field share ground biggest moving asking picture total forget race edit safe fourteen
watched plus ball card society uh became record mostly quality truth seriously super etc
comment expensive create eyes paying simple global write d tough travel kept sign follow
minute cat thirteen blood among fan lead meant data cases europe period increase trouble
growing above sitting international calling putting offer weather british rules drink damage
message size parts access personally technology glad seemed effect land families paper allow
hospital english sixteen key quickly population willing opportunity happening art cancer
date credit gotten sad depends reasons luck realize areas none project recent pass account
beginning weight policy sleep role further provide sir gives weren't lower board compared
particular numbers feet built focus cars piece drop round bush ended drug yep washington
fear talked final calls green center spending sister teams television eating bunch medical
costs doubt event john insurance terrible choose campaign christmas computers loved drugs
dogs clean o earlier career match park straight club character honestly rights science
subject wall original student crisis afraid source eventually clearly ability considered
towards grew it'll version grow link learned catch bed training sold beat began gas
otherwise bet london unfortunately yesterday prices fit currently bigger feels election
earth easily hair anywhere services held regular explain actual walking correct respect lack
eye box results majority england visit driving touch pain church twice liked impact fans
thousands groups stopped threat tend language popular goal caught meeting option younger
pressure hasn't voice exercise gun helped lucky dude range teachers learning b joke decide
pull teacher events weapons chinese track cover star department reddit aware trip writing
quick surprised fighting afford plane literally wonderful plans development speed culture
peace la hopefully m stage ice charge throw tonight op following concerned l potential title
base brain beyond honest boys dark wrote raise income helps natural search excuse screen
winter blue positive particularly buying tomorrow non p advice success complete finding
ideas stick foreign missing leaving
"""
FREQUENT_WORDS = tuple(_FREQUENT_WORDS_TEXT.split())


@dataclass
class _Grammar:
    """A compiled vocabulary: search names, and how to map a result back to a phrase."""

    search: str  # phrases + garbage
    garbage_search: str  # garbage only, for the confidence margin
    phrases: dict[tuple[str, ...], str]
    dropped: list[str] = field(default_factory=list)  # phrases with words not in the dictionary


class PocketsphinxRecognizer:
    """Recognizer (see assistant.asr.base) backed by one pocketsphinx Decoder.

    `notify` receives plain-language warnings (a phrase the dictionary cannot
    pronounce). `partials=False` skips the live pass when no early end of turn
    is needed (benchmarks, tests), halving the CPU per turn; the final answer
    is the same either way.
    """

    name = "pocketsphinx"

    def __init__(self, min_confidence: float = POCKETSPHINX_MIN_CONFIDENCE,
                 garbage_size: int = GARBAGE_SIZE, garbage_weight: float = GARBAGE_WEIGHT,
                 notify: Callable[[str], None] | None = None, partials: bool = True,
                 noise_words: bool = True, trim: bool = True,
                 near_homophone_max_phones: int = NEAR_HOMOPHONE_MAX_PHONES,
                 dither_rms: float = DITHER_RMS, mllr: str | Path | None = None,
                 **decoder_settings: Any) -> None:
        if garbage_size < 1:
            raise ValueError("garbage_size must be at least 1: strangers need somewhere to go")
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RecognizerUnavailable(
                f"pocketsphinx is not installed ({exc}). Install it with: pip install pocketsphinx"
            ) from exc
        self.min_confidence = min_confidence
        self.interrupt_floor = min(POCKETSPHINX_INTERRUPT_FLOOR, min_confidence)
        self.garbage_size = garbage_size
        self.garbage_weight = garbage_weight
        self.partials = partials
        self.trim = trim
        self.near_homophone_max_phones = near_homophone_max_phones
        self.dither_rms = dither_rms
        self._notify = notify or (lambda message: None)
        self._unknown = UnknownWords(self._notify, "its pronunciation dictionary")
        settings = {**DECODER_SETTINGS, **decoder_settings}
        if mllr is not None:
            settings["mllr"] = str(mllr)
        self._decoder = Decoder(lm=None, loglevel="FATAL", logfn=os.devnull,
                                samprate=SAMPLE_RATE, **settings)
        self._noise_words: list[str] = []
        if noise_words:
            for index, (word, phones) in enumerate(NOISE_WORDS.items()):
                self._decoder.add_word(word, phones, index == len(NOISE_WORDS) - 1)
                self._noise_words.append(word)
        for word, variants in EXTRA_PRONUNCIATIONS.items():
            known = self._pronunciations(word)
            for phones in variants:
                if phones not in known:
                    known.append(phones)
                    self._decoder.add_word(f"{word}({len(known)})", phones, True)
        self._grammars: OrderedDict[tuple[str, ...], _Grammar] = OrderedDict()
        self._serial = 0
        self._current: _Grammar | None = None
        self._audio = bytearray()
        self._live = False
        self.switch_cost_s = 0.0  # how long the last begin() took (compiling or activating)
        self.decode_seconds = 0.0  # time spent decoding, for real-time-factor figures
        self.audio_seconds = 0.0  # audio decoded by end()

    # --- Recognizer interface ---------------------------------------------------------

    def begin(self, vocabulary: Vocabulary) -> None:
        """Start an utterance limited to `vocabulary`; compiles its grammar on first use only."""
        started = time.perf_counter()
        self._finish_live()
        grammar = self._grammar(vocabulary)
        self._current = grammar
        self._audio.clear()
        if self.partials:
            self._decoder.activate_search(grammar.search)
            self._decoder.reinit_feat()
            self._decoder.start_utt()
            self._live = True
        self.switch_cost_s = time.perf_counter() - started

    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Buffer audio and, with partials on, return the phrase heard so far (or None)."""
        if self._current is None:
            raise RuntimeError("accept() before begin()")
        self._audio.extend(pcm)
        if not self._live or not pcm:
            return None
        started = time.perf_counter()
        self._decoder.process_raw(add_dither(pcm, self.dither_rms, len(self._audio)), False, False)
        hyp = self._decoder.hyp()
        self.decode_seconds += time.perf_counter() - started
        if hyp is None or not hyp.hypstr:
            return None
        phrase = self._current.phrases.get(phrase_key(hyp.hypstr.split()))
        return Hypothesis(phrase, None, final=False) if phrase else None

    def end(self) -> Hypothesis:
        """Decode the whole utterance; text "" when a garbage word or silence explains it best."""
        grammar = self._current
        if grammar is None:
            raise RuntimeError("end() before begin()")
        self._finish_live()
        audio = bytes(self._audio)
        self._audio.clear()
        self.audio_seconds += len(audio) / (2 * SAMPLE_RATE)
        if self.trim:
            audio = trim_to_speech(audio)
        audio = add_dither(audio, self.dither_rms)
        if len(audio) < MIN_UTTERANCE_S * SAMPLE_RATE * 2 or not grammar.phrases:
            return Hypothesis("", 0.0, final=True)
        started = time.perf_counter()
        try:
            words, score = self._decode(grammar.search, audio)
            phrase = grammar.phrases.get(phrase_key(words))
            if phrase is None or score is None:
                return Hypothesis("", 0.0, final=True)
            _, garbage_score = self._decode(grammar.garbage_search, audio)
        finally:
            self.decode_seconds += time.perf_counter() - started
        margin = score - garbage_score if garbage_score is not None else 1.0
        return Hypothesis(phrase, confidence_from_margin(margin), final=True)

    # --- details ----------------------------------------------------------------------

    def prepare(self, vocabularies: Iterable[Vocabulary]) -> None:
        """Compile grammars ahead (about 0.1 s each), so no turn waits for one."""
        for vocabulary in vocabularies:
            self._grammar(vocabulary)

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        """Words the pronunciation dictionary lacks in every spelling (they cannot be heard)."""
        return [w for w in dict.fromkeys(words) if not self.dictionary_forms(w)]

    def dictionary_forms(self, word: str) -> list[str]:
        """Spellings of `word` the dictionary knows: "dont" -> ["don't"], "im" -> ["im", "i'm"].
        A word it lacks gets a pronunciation derived from words it has ("paralysed" from
        "paralyzed", "tingles" from "tingle": assistant/asr/pronounce.py), added once."""
        forms = [f for f in apostrophe_forms(word) if self._decoder.lookup_word(f) is not None]
        if not forms:
            phones = derived_pronunciation(word, self._decoder.lookup_word)
            if phones is not None:
                self._decoder.add_word(word, phones, True)
                forms = [word]
        return forms

    def dropped_phrases(self, vocabulary: Vocabulary) -> list[str]:
        """Phrases of `vocabulary` left out of its grammar because a word is unknown."""
        return list(self._grammar(vocabulary).dropped)

    def _finish_live(self) -> None:
        if self._live:
            self._decoder.end_utt()
            self._live = False

    def _decode(self, search: str, audio: bytes) -> tuple[tuple[str, ...], float | None]:
        """One whole-utterance pass: (words, acoustic score), or ((), None) when nothing fits.

        The acoustic score is the sum over the path's segments (words, silences,
        noises) of their acoustic log-likelihood, without grammar priors: the
        prior of one phrase among 170 is much lower than among 20, and a
        confidence must not depend on how many phrases the state has.

        Feature extraction is reset first: pocketsphinx otherwise carries its
        noise and cepstral-mean estimates over from earlier audio, and the same
        "goodbye" was heard or not depending on what came before it.
        """
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.reinit_feat()  # forget noise and mean estimates of earlier audio (0.04 ms)
        decoder.start_utt()
        decoder.process_raw(audio, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return (), None
        acoustic = 0.0
        for segment in decoder.seg() or ():
            acoustic += math.log(max(segment.ascore, 1e-300))
        return tuple(hyp.hypstr.split()), acoustic

    def _grammar(self, vocabulary: Vocabulary) -> _Grammar:
        key = tuple(vocabulary.phrases)
        grammar = self._grammars.get(key)
        if grammar is not None:
            self._grammars.move_to_end(key)
            return grammar
        grammar = self._compile(vocabulary)
        self._grammars[key] = grammar
        if len(self._grammars) > MAX_CACHED_GRAMMARS:
            _, old = self._grammars.popitem(last=False)
            if old is not self._current:
                for search in (old.search, old.garbage_search):
                    self._decoder.remove_search(search)
        return grammar

    def _compile(self, vocabulary: Vocabulary) -> _Grammar:
        phrases: dict[tuple[str, ...], str] = {}
        expansions: list[str] = []
        spellings: dict[str, list[str]] = {}
        dropped: list[str] = []
        heard_as: set[tuple[str | None, ...]] = set()
        for key, phrase in phrase_table(vocabulary).items():
            forms = [spellings.setdefault(w, self.dictionary_forms(w)) for w in key]
            missing = [w for w, f in zip(key, forms, strict=True) if not f]
            if missing:
                dropped.append(phrase)
                self._unknown.missing(phrase, missing)
                continue
            sounds = tuple(self._decoder.lookup_word(f[0]) for f in forms)
            if sounds in heard_as:  # "paralysed" and "paralyzed": one sound, one phrase (two
                continue  # would halve each one's share, and its confidence)
            heard_as.add(sounds)
            phrases[key] = phrase
            expansions.append(" ".join(f[0] if len(f) == 1 else f"({' | '.join(f)})"
                                       for f in forms))
        garbage = self._noise_words + self._garbage_for(phrases, spellings)
        self._serial += 1
        search = f"turn{self._serial}"
        garbage_search = f"garbage{self._serial}"
        self._decoder.add_jsgf_string(search, build_jsgf(expansions, garbage, self.garbage_weight))
        self._decoder.add_jsgf_string(garbage_search, build_jsgf((), garbage, 1.0))
        return _Grammar(search, garbage_search, phrases, dropped)

    def _garbage_for(self, phrases: dict[tuple[str, ...], str],
                     spellings: dict[str, list[str]]) -> list[str]:
        """Frequent words, minus the phrases' own words and words that sound (nearly) the same.

        "know" must not be garbage when "no" is an answer: it would win half the
        time. Nor "now" or "known", one sound away from a short answer.
        """
        own = {f for forms in spellings.values() for f in forms} | set(spellings)
        own_sounds = {p for w in own for p in self._pronunciations(w)}
        short = [p.split() for key in phrases if len(key) == 1
                 for form in spellings.get(key[0], [])
                 for p in self._pronunciations(form)
                 if len(p.split()) <= self.near_homophone_max_phones]
        garbage: list[str] = []
        for word in FREQUENT_WORDS:
            if word in own or word.replace("'", "") in own:
                continue
            sounds = self._pronunciations(word)
            if not sounds or own_sounds.intersection(sounds):
                continue
            if any(phone_distance(s.split(), answer) <= 1 for s in sounds for answer in short):
                continue
            garbage.append(word)
            if len(garbage) >= self.garbage_size:
                break
        return garbage

    def _pronunciations(self, word: str) -> list[str]:
        found = []
        for variant in (word, *(f"{word}({n})" for n in range(2, 6))):
            phones = self._decoder.lookup_word(variant)
            if phones is None:
                break
            found.append(phones)
        return found


def build_jsgf(phrases: Iterable[str], garbage: list[str], garbage_weight: float) -> str:
    """A JSGF grammar: any one phrase, or (at `garbage_weight`) one garbage word.

    Each phrase is a JSGF expansion such as "(im | i'm) ready"; words are lower-case
    letters and apostrophes (see spoken_words), which JSGF takes without quoting.
    """
    alternatives = [f"/1/ {expansion}" for expansion in phrases]
    rules = ""
    if garbage:
        alternatives.append(f"/{garbage_weight:g}/ <garbage>")
        rules = "<garbage> = " + " | ".join(garbage) + ";\n"
    if not alternatives:
        raise ValueError("a grammar needs at least one phrase or garbage word")
    return ("#JSGF V1.0;\ngrammar turn;\npublic <turn> = " + " | ".join(alternatives)
            + ";\n" + rules)


def add_dither(pcm: bytes, rms: float, seed: int = 0) -> bytes:
    """`pcm` plus faint Gaussian noise if it holds digital silence; reproducible.

    Digital silence (exact zeros, as from synthesized test speech or a muted
    input) makes the acoustic model's features degenerate: synthetic "stop"
    was heard as "ok" and "help" as "i do" between zeros, and correctly once
    4 units of noise were added. Audio from a real microphone (never long runs
    of exact zeros) is left alone: dithering it lowered "no" accuracy on the
    real clips from 0.85 to 0.78.
    """
    if rms <= 0 or not pcm:
        return pcm
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float64)
    if np.count_nonzero(samples == 0) < 0.05 * len(samples):
        return pcm
    samples += np.random.default_rng(seed).normal(0.0, rms, len(samples))
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16).tobytes()


def phone_distance(a: list[str], b: list[str]) -> int:
    """Edit distance between two phone sequences (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[:], i
        for j, y in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
    return row[-1]


def confidence_from_margin(margin: float) -> float:
    """Map the phrase-versus-garbage score margin to 0..1 (0.5: both explain it equally)."""
    scaled = max(-50.0, min(50.0, margin / CONFIDENCE_SCALE))
    return clamp01(1.0 / (1.0 + math.exp(-scaled)))


def frequent_words_from_lm(count: int) -> list[str]:
    """Regenerate FREQUENT_WORDS from pocketsphinx's language model (takes about a second)."""
    import re

    from pocketsphinx import Config, LogMath, NGramModel, get_model_path

    model = NGramModel(Config(), LogMath(), get_model_path("en-us/en-us.lm.bin"))
    words = set()
    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as dictionary:
        for line in dictionary:
            word = line.split(" ", 1)[0]
            if re.fullmatch(r"[a-z][a-z']*", word):
                words.add(word)
    ranked = sorted(words, key=lambda w: (-model.prob([w]), w))
    return ranked[:count]
