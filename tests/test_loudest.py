"""The loudest stretch of a turn (assistant/asr/loudest.py): an answer said over a
television keeps its words and loses most of the television around it.

Real answers: the repository's Speech Commands v0.02 test clips (CC BY 4.0,
tests/clips/speech_commands/LICENSE) in the benchmark's rooms (bench/rooms.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.asr.base import SAMPLE_RATE
from assistant.asr.loudest import SMOOTH_MS, loudest_stretch
from bench.hearing import Clip, load_clips
from bench.rooms import PAD_S, Rooms, pcm_of, samples_of, seed_of

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
PAD = int(PAD_S * SAMPLE_RATE)


@pytest.fixture(scope="module")
def rooms() -> Rooms:
    return Rooms(load_clips(CLIPS))


def _answers(rooms: Rooms) -> list[Clip]:
    return [c for c in rooms.clips if c.label in ("yes", "no")]


def _loudest_moment(samples: np.ndarray) -> int:
    """The middle of the word's loudest tenth of a second, in samples."""
    window = SAMPLE_RATE * SMOOTH_MS // 1000
    energy = np.convolve(samples.astype(np.float64) ** 2, np.ones(window), mode="valid")
    return int(np.argmax(energy)) + window // 2


def _kept(turn_audio: bytes, stretch: bytes, sample: int) -> bool:
    at = turn_audio.find(stretch) // 2
    return at <= sample < at + len(stretch) // 2


def test_the_answer_is_kept_and_the_television_around_it_left_out(rooms: Rooms) -> None:
    left_out = []
    for clip in _answers(rooms):
        turn = rooms.turn(clip, "tv 10 dB", "as recorded")
        stretch = loudest_stretch(turn.audio)
        assert _kept(turn.audio, stretch, PAD + _loudest_moment(samples_of(clip.pcm))), \
            clip.path.name
        left_out.append(1 - len(stretch) / len(turn.audio))
    # the turn is the answer with 1 s of television before and after it: most of it goes
    # (measured on these 80 answers: median 0.84 of the turn left out)
    assert float(np.median(left_out)) >= 0.7


def test_an_answer_said_twice_with_a_pause_keeps_both_words(rooms: Rooms) -> None:
    """One span from the first loud moment to the last: "no ... no" is not cut in two."""
    both = 0
    answers = _answers(rooms)
    for clip in answers:
        turn = rooms.turn(clip, "tv 10 dB", "two words")
        # the same words the turn was made of (Rooms.turn draws them first, with this seed)
        words, second = rooms.two_words(
            clip, np.random.default_rng(seed_of(clip.path.name, "two words", 0)))
        stretch = loudest_stretch(turn.audio)
        first_peak = PAD + _loudest_moment(words[:second])
        second_peak = PAD + second + _loudest_moment(words[second:])
        both += _kept(turn.audio, stretch, first_peak) and _kept(turn.audio, stretch, second_peak)
    # measured: both kept in 65 of 80; in the others one recording of the word is more than
    # 4 dB softer than the other, and the louder one is what is heard (the same answer)
    assert both >= 0.75 * len(answers)


def test_a_microphone_dc_offset_does_not_make_the_whole_turn_loud(rooms: Rooms) -> None:
    """The same turn recorded 2000 below zero is cut to the same stretch: the offset is no
    sound (counted as loudness, every moment would be within 4 dB of the loudest)."""
    for clip in _answers(rooms)[:10]:
        turn = rooms.turn(clip, "tv 10 dB", "as recorded")
        shifted = pcm_of(samples_of(turn.audio) - 2000)
        stretch = loudest_stretch(shifted)
        assert len(stretch) == len(loudest_stretch(turn.audio)) < 0.5 * len(shifted)


def test_audio_too_short_to_judge_is_kept_as_it_is() -> None:
    short = pcm_of(np.random.default_rng(1).normal(0, 1000, SAMPLE_RATE // 20))
    assert loudest_stretch(short) == short
    assert loudest_stretch(b"") == b""
