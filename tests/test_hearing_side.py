"""Hearing in the rooms where the assistant lives, kept from falling below measured floors.

The rooms and speakers of the side-by-side benchmark (bench/rooms.py, bench/hearing_side.py)
are built from the repository's own clips: Speech Commands v0.02 test split (Warden 2018,
arXiv:1804.03209), CC BY 4.0, tests/clips/speech_commands/LICENSE. The television babble
here is made of the 40 `_unknown_` clips (other speakers' other words) plus synthetic music;
the household noise of the recorded `_silence_` clips.

The floors are set a little below what was measured on these clips (the command and the
figures are given with each), allowing a clip or two of drift; they are not targets (the
product wants yes/no >= 0.98 in quiet and >= 0.95 with the television at 10 dB).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.asr.base import Hypothesis
from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer
from bench import endpointing, hearing_side
from bench.hearing import SAMPLE_RATE, YES_NO_VOCABULARY, Clip, load_clips
from bench.rooms import (
    NOISE_SNR_DB,
    PAD_S,
    PAUSE_S,
    Rooms,
    Turn,
    active_frames,
    samples_of,
    speech_bounds,
    speech_rms,
)

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
LABELS = ("yes", "no", "_unknown_", "_silence_")


@pytest.fixture(scope="module")
def everything() -> list[Clip]:
    return load_clips(CLIPS)


@pytest.fixture(scope="module")
def rooms(everything: list[Clip]) -> Rooms:
    return Rooms(everything)


def test_noise_is_mixed_at_the_signal_to_noise_ratio_asked_for(rooms: Rooms) -> None:
    clip = next(c for c in rooms.clips if c.label == "yes")
    clean = rooms.turn(clip, "quiet", "as recorded")
    for room, snr in NOISE_SNR_DB.items():
        noisy = rooms.turn(clip, room, "as recorded")
        noise = samples_of(noisy.audio) - samples_of(clean.audio)
        measured = 20 * np.log10(speech_rms(samples_of(clip.pcm)) / np.sqrt((noise ** 2).mean()))
        assert abs(measured - snr) < 0.2, room


def test_rooms_are_the_same_in_every_run(everything: list[Clip]) -> None:
    clip = next(c for c in everything if c.label == "no")
    first, second = Rooms(everything), Rooms(everything)
    for room in ("tv 5 dB", "household 10 dB", "reverberant"):
        assert first.turn(clip, room, "two words").audio == second.turn(clip, room,
                                                                         "two words").audio


def test_nobody_hears_their_own_voice_in_the_babble(rooms: Rooms) -> None:
    """Babble is made from the other speaker half, so a clip is never mixed with itself."""
    assert rooms.babble_talkers == 40
    assert len(rooms.babble[0]) == len(rooms.babble[1])
    assert not np.allclose(rooms.babble[0][:16000], rooms.babble[1][:16000])


def test_slow_and_two_word_speakers(rooms: Rooms) -> None:
    clip = next(c for c in rooms.clips if c.label == "yes")
    samples = samples_of(clip.pcm)
    slowed = rooms.spoken(clip, "slowed 30%", np.random.default_rng(0))
    assert abs(len(slowed) / len(samples) - 1 / 0.7) < 0.02
    twice, second_at = rooms.two_words(clip, np.random.default_rng(0))
    first_end = speech_bounds(samples)[1]
    pause_s = (second_at - first_end) / SAMPLE_RATE
    assert PAUSE_S[0] <= pause_s <= PAUSE_S[1]
    assert not active_frames(twice[first_end + 160:second_at - 160]).any()


def test_a_quiet_room_keeps_a_recordings_dc_offset_and_its_own_noise_floor(
        rooms: Rooms) -> None:
    """A recording about 2000 below zero throughout (a microphone's offset): the quiet room
    around it goes on at that offset, with noise at the recording's floor (tens, not the
    offset's thousands): no step where the words begin, and a quiet room stays quiet."""
    clip = next(c for c in rooms.clips if c.path.name == "6205088b_nohash_0.wav")
    recorded = samples_of(clip.pcm)
    pad = samples_of(rooms.turn(clip, "quiet", "as recorded").audio)[:int(PAD_S * SAMPLE_RATE)]
    assert abs(pad.mean() - recorded.mean()) < 20
    assert pad.std() < 200 < abs(recorded.mean())


# Measured (commit of this test) with
#   .venv/bin/python -m bench.hearing_side --clips tests/clips/speech_commands \
#       --recognizers "this project" --rooms quiet "tv 10 dB" --speakers "as recorded"
# quiet: yes/no 0.887 (71 of 80), false accepts 0.025 of 40 other words, 0 of 40 noises;
# television at 10 dB: yes/no 0.412 (33 of 80), false accepts 0.250 (10 of 40) other words,
# 0 of 40 noises (before a microphone's DC offset was no longer taken for loudness and the
# bench's rooms kept a recording's offset: 0.875, 0.362, 0.275). The floors allow two
# clips of drift or more; far below the product's aims.
QUIET_FLOOR = 0.85
TV_10_DB_FLOOR = 0.33
FALSE_ACCEPT_CEILING = {"quiet": 0.04, "tv 10 dB": 0.165}  # other words and noise together


def cells_in_two_rooms(recognizer: str, floor: float
                       ) -> dict[tuple[str, str, str], hearing_side.Cell]:
    """A column of the side by side on the repository's clips, quiet and television at
    10 dB, speakers as recorded."""
    everything = load_clips(CLIPS)
    scored = [c for c in everything if c.label in LABELS]
    heard = hearing_side.run(scored, everything, [recognizer], ["quiet", "tv 10 dB"],
                             ["as recorded"])
    return hearing_side.cells(heard, scored, {recognizer: floor})


@pytest.fixture(scope="module")
def project_cells() -> dict[tuple[str, str, str], hearing_side.Cell]:
    """This project's pipeline with pocketsphinx."""
    from assistant.asr.pocketsphinx_engine import POCKETSPHINX_MIN_CONFIDENCE

    return cells_in_two_rooms(hearing_side.PROJECT, POCKETSPHINX_MIN_CONFIDENCE)


def test_yes_and_no_are_heard_in_a_quiet_room(
        project_cells: dict[tuple[str, str, str], hearing_side.Cell]) -> None:
    cell = project_cells[(hearing_side.PROJECT, "quiet", "as recorded")]
    assert cell.yes_no_clips == 80
    assert cell.figures.yes_no_accuracy >= QUIET_FLOOR


def test_yes_and_no_are_heard_with_the_television_on(
        project_cells: dict[tuple[str, str, str], hearing_side.Cell]) -> None:
    cell = project_cells[(hearing_side.PROJECT, "tv 10 dB", "as recorded")]
    assert cell.yes_no_clips == 80
    assert cell.figures.yes_no_accuracy >= TV_10_DB_FLOOR


def test_strangers_are_rarely_taken_for_answers_in_either_room(
        project_cells: dict[tuple[str, str, str], hearing_side.Cell]) -> None:
    for room, ceiling in FALSE_ACCEPT_CEILING.items():
        cell = project_cells[(hearing_side.PROJECT, room, "as recorded")]
        assert cell.unknown_clips == 40 and cell.noise_clips == 40
        assert cell.figures.false_accept_rate <= ceiling, room


# The same for what the assistant runs by default without a Vosk model: Moonshine checked by
# pocketsphinx (the "moonshine + pocketsphinx" column), measured (commit of this test) with
#   .venv/bin/python -m bench.hearing_side --clips tests/clips/speech_commands \
#       --recognizers "moonshine + pocketsphinx" --rooms quiet "tv 10 dB" --speakers "as recorded"
# quiet: yes/no 0.988 (79 of 80), false accepts 0 of 40 other words, 0 of 40 noises;
# television at 10 dB: yes/no 0.725 (58 of 80), 0 of 40 other words, 0 of 40 noises.
# (Before a microphone's DC offset was no longer taken for loudness and Moonshine's "yeah"
# no longer taken on its word alone: 0.975 and 0.738, 1 other word at 10 dB; before a turn
# not heard was heard again in its loudest stretch: 0.963 and 0.562; before Moonshine
# scored the phrases and one answer's phrases agreed: 0.938 and 0.475.) Floors: two clips
# of drift below.
CROSS_QUIET_FLOOR = 0.96
CROSS_TV_10_DB_FLOOR = 0.70
CROSS_FALSE_ACCEPT_CEILING = {"quiet": 0.0125, "tv 10 dB": 0.04}  # 1 and 3 of 80


@pytest.fixture(scope="module")
def cross_checked_cells() -> dict[tuple[str, str, str], hearing_side.Cell]:
    from assistant.asr.moonshine_engine import MOONSHINE_MIN_CONFIDENCE

    return cells_in_two_rooms(hearing_side.CROSS_CHECKED, MOONSHINE_MIN_CONFIDENCE)


def test_the_default_hears_more_yes_and_no_in_both_rooms(
        cross_checked_cells: dict[tuple[str, str, str], hearing_side.Cell]) -> None:
    for room, floor in (("quiet", CROSS_QUIET_FLOOR), ("tv 10 dB", CROSS_TV_10_DB_FLOOR)):
        cell = cross_checked_cells[(hearing_side.CROSS_CHECKED, room, "as recorded")]
        assert cell.yes_no_clips == 80
        assert cell.figures.yes_no_accuracy >= floor, room


def test_the_default_takes_fewer_strangers_for_answers(
        cross_checked_cells: dict[tuple[str, str, str], hearing_side.Cell]) -> None:
    for room, ceiling in CROSS_FALSE_ACCEPT_CEILING.items():
        cell = cross_checked_cells[(hearing_side.CROSS_CHECKED, room, "as recorded")]
        assert cell.unknown_clips == 40 and cell.noise_clips == 40
        assert cell.figures.false_accept_rate <= ceiling, room


# Endpointing, measured with
#   .venv/bin/python -m bench.endpointing --clips tests/clips/speech_commands --per-label 10
# one word (20 real answers): none cut off; "yes" median gap 130 ms (fixed silence 0.5 / 0.7 /
# 1.25 s: 460 / 670 / 1210 ms); "no" waits 1485 ms, since "no ... feeling" may follow (it
# was 165 ms for both before the listener waited after phrases another meaning begins with).
# Phrases with a 0.6-1.2 s pause inside (60, espeak-ng, slow): cut off this project 0.000
# (0.633 before), 0.5 s 1.000, 0.7 s 0.800, 1.25 s 0.133.
ONE_WORD_YES_GAP_MEDIAN_MS = 200.0
PAUSED_PHRASE_CUT_OFF_CEILING = 0.02  # measured 0 of 60: one of drift


@pytest.fixture(scope="module")
def endpointing_run() -> tuple[dict[tuple[str, str], endpointing.Row],
                               list[endpointing.Decision]]:
    answers = endpointing.clip_answers(CLIPS, 10) + endpointing.synthesized_answers()
    decisions, intents = endpointing.measure(answers)
    rows = {(row.kind, row.endpointer): row for row in endpointing.rows(decisions, intents)}
    return rows, decisions


def test_a_sure_yes_is_taken_sooner_than_fixed_silence_would(
        endpointing_run: tuple[dict[tuple[str, str], endpointing.Row],
                               list[endpointing.Decision]]) -> None:
    """A plain "yes" ends the turn quickly; a "no" waits, as "no ... feeling" might follow."""
    rows, decisions = endpointing_run
    ours = rows[("one word", endpointing.PROJECT)]
    assert ours.answers == 20 and ours.cut_off == 0.0 and ours.never_ended == 0
    yes_gaps = {name: [d.gap_ms for d in decisions if d.endpointer == name
                       and d.answer.kind == "one word" and d.answer.meaning == "yes"
                       and d.gap_ms is not None] for name in endpointing.ENDPOINTERS}
    median = {name: float(np.median(gaps)) for name, gaps in yes_gaps.items()}
    assert median[endpointing.PROJECT] <= ONE_WORD_YES_GAP_MEDIAN_MS
    for name in endpointing.FIXED_SILENCE_MS:
        assert median[endpointing.PROJECT] < median[name], name


def test_slow_speakers_pausing_inside_an_answer_are_not_cut_off(
        endpointing_run: tuple[dict[tuple[str, str], endpointing.Row],
                               list[endpointing.Decision]]) -> None:
    rows, _ = endpointing_run
    kind = endpointing.KINDS[3]
    ours = rows[(kind, endpointing.PROJECT)]
    assert ours.answers == 60
    assert ours.cut_off <= PAUSED_PHRASE_CUT_OFF_CEILING
    # the fixed-silence endpointers cut such answers as their silence says
    assert rows[(kind, "OpenVoiceOS 0.5 s")].cut_off == 1.0
    assert rows[(kind, "Home Assistant relaxed 1.25 s")].cut_off > ours.cut_off


# SpeexDSP noise suppression in front of the recognizer (the "this project + SpeexDSP NS"
# column; bench/side_by_side.md). The turn listener looks each frame up in the cleaned turn
# and falls back to the frame as heard, so a broken column would quietly be this project's
# own: these tests check that the audio is cleaned and that the recognizer hears it cleaned.
# Measured (commit of this test), household noise at 10 dB, the first 10 `yes` clips: the
# second before the word -0.2 to -14.1 dB (median -13.9), the word itself -0.4 to -0.8 dB.
NOISE_BEFORE_THE_WORD_MAX_DB = -6.0  # median over the clips
WORD_KEPT_MIN_DB = -1.5  # every clip


def _cleaned(turn: Turn, suppressor: hearing_side.Suppressor) -> bytes:
    both = turn.prime + turn.audio
    chunk = hearing_side.NS_CHUNK
    return b"".join(suppressor(both[i:i + chunk])
                    for i in range(0, len(both) - chunk + 1, chunk))[len(turn.prime):]


def test_speexdsp_quietens_household_noise_and_keeps_the_word(rooms: Rooms) -> None:
    def level_db(cleaned: np.ndarray, heard: np.ndarray) -> float:
        return float(10 * np.log10((cleaned ** 2).mean() / (heard ** 2).mean()))

    before, words = [], []
    for clip in [c for c in rooms.clips if c.label == "yes"][:10]:
        turn = rooms.turn(clip, "household 10 dB", "as recorded")
        heard = samples_of(turn.audio)
        cleaned = samples_of(_cleaned(turn, hearing_side.speex_ns()))
        assert len(cleaned) == len(heard)  # 1 s of room each side of the clip: whole frames
        first, last = speech_bounds(samples_of(clip.pcm))
        pad = int(PAD_S * SAMPLE_RATE)
        before.append(level_db(cleaned[:pad - 1600], heard[:pad - 1600]))
        words.append(level_db(cleaned[pad + first:pad + last], heard[pad + first:pad + last]))
    assert float(np.median(before)) <= NOISE_BEFORE_THE_WORD_MAX_DB, before
    assert min(words) >= WORD_KEPT_MIN_DB, words


class _Overhearing(PocketsphinxRecognizer):
    """The project's recognizer, keeping every frame it is given."""

    def __init__(self) -> None:
        super().__init__(partials=False)
        self.frames: list[bytes] = []

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self.frames.append(pcm)
        return super().accept(pcm)


def test_the_speexdsp_column_recognizes_the_cleaned_audio_not_the_room(rooms: Rooms) -> None:
    clip = next(c for c in rooms.clips if c.label == "yes")
    turn = rooms.turn(clip, "tv 10 dB", "as recorded")
    engine = _Overhearing()
    hearer = hearing_side.make_hearers([hearing_side.PROJECT_SPEEX], YES_NO_VOCABULARY)[0]
    assert isinstance(hearer, hearing_side.CleanedTurnListener)
    assert hearer.cleaning.suppressor is hearing_side.speex_ns  # not WebRTC's
    hearer.cleaning.inner = engine
    hearer.hear(turn)
    frame = len(engine.frames[0])
    as_heard = {turn.audio[i:i + frame] for i in range(0, len(turn.audio) - frame + 1, frame)}
    cleaned = set(hearer.cleaning.cleaned.values())
    assert len(engine.frames) >= 20  # the turn was heard (at least 0.6 s of it)
    assert all(f in cleaned and f not in as_heard for f in engine.frames)


def test_the_tables_compare_every_column_with_what_the_assistant_hears_with() -> None:
    """The ratios are against the assistant's default here (Moonshine checked by
    pocketsphinx when both are measured), not against its fallback."""
    from bench.hearing import Figures

    def cell(accuracy: float) -> hearing_side.Cell:
        return hearing_side.Cell(Figures(0.7, 120, accuracy, accuracy, accuracy, 0.0, 0.0,
                                         0.0, 0.0, 0.0), 80, 40, 40, 0.05)

    names = [hearing_side.PROJECT, hearing_side.PLAIN, hearing_side.CROSS_CHECKED]
    table = {(hearing_side.PROJECT, "quiet", "as recorded"): cell(0.5),
             (hearing_side.PLAIN, "quiet", "as recorded"): cell(0.25),
             (hearing_side.CROSS_CHECKED, "quiet", "as recorded"): cell(1.0)}
    text = hearing_side.format_tables(table, names, ["quiet"], ["as recorded"])
    accuracy = text.split("\n\n")[0].splitlines()
    assert accuracy[2].split()[2] == hearing_side.CROSS_CHECKED.split()[0]  # first column
    row = accuracy[-1].split()
    assert row[3:5] == ["1.000", "(80)"]  # room, speaker ("as recorded"), then it
    assert "0.50" in row and "0.25" in row  # pocketsphinx alone and plain JSGF: x / 1.0
    assert hearing_side.default_pipeline([hearing_side.PROJECT, hearing_side.PLAIN]) == \
        hearing_side.PROJECT
