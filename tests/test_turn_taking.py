"""When does the assistant decide the user has finished speaking? (assistant/listening.py)

Driven frame by frame without audio: a frame is either a piece of a spoken
word or silence, and a stand-in recognizer hears the words it was given.
"""

from __future__ import annotations

from assistant.asr.base import Hypothesis
from assistant.listening import UNINTELLIGIBLE, Endpointing, TurnListener
from assistant.ports import Heard, Vocabulary
from assistant.words import normalize

TIMING = Endpointing()
FRAME_MS = TIMING.frame_ms
SILENCE = b""
# "i do" / "i do not" / "i do not know": each shorter one can still change its meaning.
VOCABULARY = Vocabulary(("yes", "i do", "no", "i dont", "i do not", "i dont know",
                         "i do not know", "not really", "no feeling", "not sure"),
                        open_phrases=("i do", "i dont", "i do not", "no"))


class WordVad:
    def is_speech(self, frame: bytes) -> bool:
        return frame != SILENCE


class WordRecognizer:
    """Hears the words in the frames it was given since `begin`; unsure of "mumble"."""

    name = "words"
    min_confidence = 0.5
    interrupt_floor = 0.3

    def __init__(self) -> None:
        self.words: list[str] = []
        self.decodes = 0
        self.trailing_ms = 0  # silence received after the last word

    def begin(self, vocabulary: Vocabulary) -> None:
        self.phrases = set(vocabulary.phrases)
        self.words = []
        self.trailing_ms = 0
        self.longest_pause_ms = 0

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self.trailing_ms = 0 if pcm else self.trailing_ms + FRAME_MS
        self.longest_pause_ms = max(self.longest_pause_ms, self.trailing_ms)
        if pcm and (not self.words or self.words[-1] != pcm.decode()):
            self.words.append(pcm.decode())
        return None

    def end(self) -> Hypothesis:
        self.decodes += 1
        text = normalize(" ".join(self.words))  # as the vocabulary spells it: "i dont"
        if "mumble" in self.words:
            return Hypothesis("no", 0.1, final=True)
        if text == "yesss" and self.trailing_ms >= 200:  # a word whose fading end matters
            return Hypothesis("yes", 0.9, final=True)
        if text == "yeah":  # heard above the floor, but not surely
            return Hypothesis("yes", 0.7, final=True)
        if text == "no no":  # said twice, the two together sound like a longer phrase
            return Hypothesis("no feeling", 0.97, final=True)
        if text == "not really" and self.longest_pause_ms > 600:  # too slow for its models
            return Hypothesis("not really", 0.1, final=True)
        return Hypothesis(text if text in self.phrases else "", 0.9, final=True)


def word(text: str, ms: int = 240) -> list[bytes]:
    return [text.encode()] * (ms // FRAME_MS)


def pause(ms: int) -> list[bytes]:
    return [SILENCE] * (ms // FRAME_MS)


def listen(frames: list[bytes], recognizer: WordRecognizer | None = None,
           ) -> tuple[Heard | None, int]:
    """(what was heard, ms of silence after the last word when the turn ended)."""
    listener = TurnListener(recognizer or WordRecognizer(), WordVad(), VOCABULARY,
                            min_confidence=0.5)
    silent = 0
    for frame in [*pause(300), *frames, *pause(3000)]:
        silent = silent + FRAME_MS if frame == SILENCE else 0
        heard = listener.feed(frame)
        if heard is not None:
            return heard, silent
    return None, silent


def test_a_plain_sure_yes_is_answered_after_a_short_pause() -> None:
    heard, waited = listen(word("yes"))
    assert heard is not None and heard.text == "yes"
    assert TIMING.complete_pause_ms <= waited < TIMING.complete_pause_ms + FRAME_MS


def test_an_answer_heard_less_surely_waits_a_little_longer() -> None:
    heard, waited = listen(word("yeah"))
    assert heard is not None and heard.text == "yes"
    assert TIMING.hesitation_ms <= waited < TIMING.hesitation_ms + FRAME_MS


class PairLikeRecognizer(WordRecognizer):
    """Asks for the pause after an answer it heard not surely (as the Moonshine pair does),
    and hears the first word of "not ... sure" as a whole answer, not surely."""

    unsure_pause_ms = 1500

    def end(self) -> Hypothesis:
        if self.words == ["not"]:
            self.decodes += 1
            return Hypothesis("yes", 0.75, final=True)
        if self.words == ["not", "sure"]:
            self.decodes += 1
            return Hypothesis("not sure", 0.95, final=True)
        return super().end()


def test_a_recognizer_can_ask_to_wait_longer_after_an_answer_heard_not_surely() -> None:
    heard, waited = listen(word("yeah"), PairLikeRecognizer())
    assert heard is not None and heard.text == "yes"
    assert 1500 <= waited < 1500 + FRAME_MS
    # so a slow "not ... sure" whose "not" it takes for a whole answer is not cut off
    heard, _ = listen([*word("not"), *pause(1200), *word("sure")], PairLikeRecognizer())
    assert heard is not None and heard.text == "not sure"


def test_no_waits_for_a_slow_speaker_who_may_go_on_to_no_feeling() -> None:
    heard, waited = listen(word("no"))
    assert heard is not None and heard.text == "no"
    assert TIMING.open_pause_ms <= waited < TIMING.open_pause_ms + FRAME_MS
    heard, _ = listen([*word("no"), *pause(1200), *word("feeling")])
    assert heard is not None and heard.text == "no feeling"


def test_no_said_twice_after_a_pause_is_no() -> None:
    """The two together are heard as "no feeling" (a complaint); what came after the pause,
    heard on its own, is "no" again: a denial said twice, never the complaint."""
    heard, _ = listen([*word("no"), *pause(900), *word("no")])
    assert heard is not None and heard.text == "no"


def test_a_pause_after_i_dont_waits_for_know() -> None:
    heard, _ = listen([*word("i"), *word("don't"), *pause(400), *word("know")])
    assert heard is not None and heard.text == "i dont know"


def test_i_dont_alone_is_heard_after_a_longer_pause() -> None:
    heard, waited = listen([*word("i"), *word("don't")])
    assert heard is not None and heard.text == "i dont"
    assert TIMING.open_pause_ms <= waited < TIMING.open_pause_ms + FRAME_MS


def test_a_slow_speaker_pausing_after_i_dont_is_not_cut_off() -> None:
    heard, _ = listen([*word("i"), *word("don't"), *pause(1200), *word("know")])
    assert heard is not None and heard.text == "i dont know"


def test_a_slow_speaker_is_not_cut_off_mid_phrase() -> None:
    heard, _ = listen([*word("not"), *pause(1200), *word("really")])
    assert heard is not None and heard.text == "not really"


def test_a_slow_speakers_phrase_is_heard_as_if_said_at_one_go() -> None:
    """Heard with its 1.2 s pause, "not ... really" is unsure; with the pause shortened
    it is heard surely (real recognizers' models know phrases said at one go), and passed
    on as heard with some doubt, so a denial of a red flag found this way is confirmed."""
    heard, _ = listen([*word("not"), *pause(1200), *word("really")])
    assert heard is not None and heard.text == "not really"
    assert heard.confidence == TIMING.squeezed_confidence < TIMING.sure_confidence


def test_speech_that_is_no_answer_waits_out_the_patience() -> None:
    heard, waited = listen(word("banana"))
    assert heard is not None and heard.text == UNINTELLIGIBLE and heard.confidence == 0.0
    assert TIMING.patience_ms <= waited < TIMING.patience_ms + FRAME_MS


def test_an_unsure_recognition_gives_the_speaker_time_to_go_on() -> None:
    heard, waited = listen(word("mumble"))
    assert heard is not None and heard.confidence == 0.1
    assert TIMING.patience_ms <= waited < TIMING.patience_ms + FRAME_MS


def test_the_answer_is_recognized_during_the_pause_not_after_it() -> None:
    recognizer = WordRecognizer()
    heard, _ = listen(word("yes"), recognizer)
    assert heard is not None and heard.text == "yes"
    assert recognizer.decodes == 1  # the early result was the answer: no second decode


def test_a_word_unclear_without_its_fading_end_is_recognized_again_with_it() -> None:
    heard, waited = listen(word("yesss"))
    assert heard is not None and heard.text == "yes"
    assert TIMING.recheck_ms <= waited < TIMING.recheck_ms + TIMING.complete_pause_ms


def test_a_long_ramble_is_cut_at_the_limit() -> None:
    heard, _ = listen(word("banana", TIMING.max_utterance_ms + 1000))
    assert heard is not None and heard.text == UNINTELLIGIBLE


def test_clatter_that_goes_on_is_given_up_once_no_phrase_could_be_that_long() -> None:
    """Dishes clattering in front of the wake listener: a turn that is already longer than
    "hello helper" could take is over, instead of holding (and decoding again at every
    little gap) 8 s of it."""
    recognizer = WordRecognizer()
    listener = TurnListener(recognizer, WordVad(), Vocabulary(("hello helper",)),
                            min_confidence=0.5)
    fed_ms = 0
    heard = None
    for frame in [*word("clink", 270), *pause(90)] * 40:  # 14 s of clatter
        fed_ms += FRAME_MS
        heard = listener.feed(frame)
        if heard is not None:
            break
    budget_ms = 2 * TIMING.ms_per_word + TIMING.phrase_slack_ms
    assert heard is not None and heard.text == UNINTELLIGIBLE
    assert fed_ms <= budget_ms + FRAME_MS < TIMING.max_utterance_ms
