"""The "learning one voice" bench (bench/enrolment.py): its counting and table on hand-made
hearings, and one speaker of the repository's own clips end to end (a transform trained
per held-out clip with Debian's sphinxtrain, as scripts/setup-system.sh installs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.asr import adaptation
from bench import enrolment
from bench.enrolment import (
    BASELINE,
    HELD_OUT,
    STRANGERS,
    Count,
    Result,
    Task,
    Training,
)
from bench.hearing import Clip, load_clips

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
SPEAKER = "4c6167ca"  # 3 yes, 3 no, 3 stop and one other word in tests/clips


def clip(label: str, speaker: str, name: str = "") -> Clip:
    word = f"{name or 'x'}_" if label == "_unknown_" else ""
    return Clip(Path(f"{label}/{word}{speaker}_{len(name)}.wav"), label, speaker, b"")


def held(label: str, before: str, after: str, clip_name: str = "c",
         room: str = "quiet") -> Result:
    return Result(HELD_OUT, "a", label, room, clip_name, (before, 0.9 if before else None),
                  (after, 0.9 if after else None))


def test_speakers_need_enough_spoken_clips_and_a_yes_or_no() -> None:
    clips = ([clip("yes", "a"), *[clip("stop", "a") for _ in range(5)],
              clip("_silence_", "a")]
             + [clip("stop", "b") for _ in range(7)]  # no yes or no
             + [clip("no", "c"), *[clip("_unknown_", "c", "bed") for _ in range(5)]]
             + [clip("yes", "d") for _ in range(3)])  # too few
    chosen = enrolment.choose_speakers(clips, min_clips=6)
    assert list(chosen) == ["a", "c"]
    assert all(c.label != "_silence_" for c in chosen["a"]) and len(chosen["a"]) == 6
    assert list(enrolment.choose_speakers(clips, 6, limit=1)) == ["a"]
    strangers = enrolment.strangers_of(clips, "c")
    assert [c.label for c in strangers] == ["_silence_"]  # c's own words are not strangers


def test_leave_one_out_trains_on_the_others_with_words_the_dictionary_has() -> None:
    own = [clip("yes", "a"), clip("no", "a"), clip("_unknown_", "a", "bed"),
           clip("_unknown_", "a", "zzxq")]
    pairs = enrolment.training_pairs(own, {"yes", "no", "bed"}, leave_out=0)
    assert [w for _, w in pairs] == ["no", "bed"]
    assert [w for _, w in enrolment.training_pairs(own, {"yes", "no", "bed"})] == [
        "yes", "no", "bed"]
    tasks = enrolment.make_tasks({"a": own, "b": own[:2]}, stranger_clips=3)
    assert tasks[:2] == [Task(STRANGERS, "a", -1), Task(STRANGERS, "b", -1)]
    assert [t.index for t in tasks if t.kind == HELD_OUT] == [0, 1, 2, 3, 0, 1]
    assert [t.index for t in tasks if t.kind == BASELINE] == [0, 1, 2]
    assert all(t.kind == HELD_OUT
               for t in enrolment.make_tasks({"a": own}, 3, with_strangers=False))


def test_counting_and_the_table_on_hand_made_hearings() -> None:
    results = [
        held("yes", "yes", "yeah"), held("yes", "", "yes"), held("no", "nope", "no"),
        held("no", "", ""),
        held("stop", "stop", "goodbye"), held("stop", "", "stop"),
        held("go", "", "no"), held("go", "go", "nope"), held("_unknown_", "", ""),
        Result(HELD_OUT, "a", "yes", "quiet", "low", ("yes", 0.5), ("yes", 0.69)),  # floor
        held("yes", "", "yes", room="tv 10 dB"),
        Result(STRANGERS, "a", "_unknown_", "quiet", "s1", None, ("yes", 0.8)),
        Result(STRANGERS, "b", "_unknown_", "quiet", "s1", None, ("", None)),
        Result(STRANGERS, "a", "_silence_", "quiet", "s2", None, ("", None)),
        Result(BASELINE, "", "_unknown_", "quiet", "s1", ("no", 0.95), None),
        Result(BASELINE, "", "_silence_", "quiet", "s2", ("help", 0.4), None),
    ]
    paired = enrolment.attach_baseline(results)
    assert all(r.kind != BASELINE for r in paired)
    assert [r.before for r in paired if r.kind == STRANGERS] == [
        ("no", 0.95), ("no", 0.95), ("help", 0.4)]

    quiet = enrolment.room_figures(paired, "quiet")
    assert quiet.yes_no == (Count(2, 5), Count(3, 5))
    assert quiet.stop == (Count(1, 2), Count(2, 2))
    assert quiet.own_other == (Count(1, 3), Count(2, 3))
    assert quiet.own_as_no == ([], ["go as 'no'", "go as 'nope'"])
    assert enrolment.room_figures(paired, "tv 10 dB").yes_no == (Count(0, 1), Count(1, 1))
    assert enrolment.stranger_figures(paired, "quiet", "_unknown_") == (Count(2, 2),
                                                                      Count(1, 2))
    assert enrolment.stranger_figures(paired, "quiet", "_silence_") == (Count(0, 1),
                                                                      Count(0, 1))
    assert str(Count(2, 5)) == "2/5 (0.40)" and str(Count(0, 0)) == "0/0"

    table = enrolment.format_report(
        results, [Training(HELD_OUT, "a", 12, 0.8), Training(HELD_OUT, "a", 14, 1.2),
                  Training(STRANGERS, "a", 15, 0.9)], ["quiet", "tv 10 dB"])
    print(table)
    assert "2 transform(s), 12-14 utterances each (median 13); seconds median 1.00, max 1.20" \
        in table
    lines = table.splitlines()
    assert any(line.split()[:3] == ["yes/no", "heard", "right"]
               and line.split()[3:] == ["2/5", "(0.40)", "->", "3/5", "(0.60)"]
               for line in lines)
    assert "own other words taken as no/nope, after: 2 (go as 'no' x1, go as 'nope' x1)" \
        in table
    assert any(line.split() == ["quiet", "_unknown_", "2/2", "(1.00)", "1/2", "(0.50)"]
               for line in lines)
    assert "tv 10 dB  (before -> after" in table


@pytest.mark.slow
@pytest.mark.skipif(bool(adaptation.missing_tools()),
                    reason=f"MLLR training tools missing ({', '.join(adaptation.missing_tools())}):"
                           f" run scripts/setup-system.sh (Debian's sphinxtrain, "
                           f"sphinxbase-utils, pocketsphinx)")
def test_one_speaker_learned_and_heard_end_to_end() -> None:
    clips = load_clips(CLIPS)
    speakers = {SPEAKER: enrolment.choose_speakers(clips)[SPEAKER]}
    # the speaker's strangers trimmed to a few of each kind: the figures, not their number
    few = {c.path for label in enrolment.STRANGER_LABELS
           for c in [c for c in enrolment.strangers_of(clips, SPEAKER) if c.label == label][:8]}
    subset = [c for c in clips if c.speaker == SPEAKER or c.path in few]
    results, trainings = enrolment.measure(subset, speakers, ["quiet"], jobs=1)
    table = enrolment.format_report(results, trainings, ["quiet"])
    print(table)

    own = speakers[SPEAKER]
    answers = sum(c.label in ("yes", "no") for c in own)
    assert answers == 6
    quiet = enrolment.room_figures(enrolment.attach_baseline(results), "quiet")
    for before, after in (quiet.yes_no, quiet.stop, quiet.own_other):
        assert before.n == after.n
        assert before.share is not None and after.share is not None
        assert 0.0 <= before.share <= 1.0 and 0.0 <= after.share <= 1.0
    assert quiet.yes_no[0].n == answers and quiet.stop[0].n == 3
    # measured: 4 of 6 before, 6 of 6 after (seeded, so it repeats); one clip of drift allowed
    assert quiet.yes_no[0].k >= 3 and quiet.yes_no[1].k >= 5
    held_out = [t for t in trainings if t.kind == HELD_OUT]
    assert len(held_out) == len(own)
    assert all(t.utterances == len(own) - 1 for t in held_out)
    assert [t.utterances for t in trainings if t.kind == STRANGERS] == [len(own)]
    assert max(t.seconds for t in trainings) < 10.0
    for label in enrolment.STRANGER_LABELS:
        without, with_ = enrolment.stranger_figures(enrolment.attach_baseline(results),
                                                    "quiet", label)
        assert without.n == with_.n == 8
    assert "yes/no heard right" in table and "_silence_" in table
