"""The Vosk adapter without a Vosk model: grammar, result parsing, model lookup, download.

No English Vosk model can be fetched where these tests were written, so this
module tests the adapter against fakes, and its one English recognition test
runs only when a model is found. The whole path on a real model (the Korean
one from PyPI) is in test_vosk_korean.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
import types
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assistant.asr import vosk_models
from assistant.asr.base import AsrSetupError, Hypothesis, Recognizer, phrase_table, spoken_words
from assistant.asr.select import make_recognizer
from assistant.asr.vosk_engine import (
    VoskRecognizer,
    parse_final,
    parse_partial,
    spellings,
    vosk_grammar,
)
from assistant.asr.vosk_models import (
    DEFAULT_MODEL,
    ModelNotFound,
    download_model,
    ensure_model,
    find_model,
    network_reachable,
    verify_model_zip,
)
from assistant.ports import Vocabulary
from assistant.words import normalize

PHRASES = {("yes",): "yes", ("no",): "no", ("call", "nine", "one", "one"): "call 911"}


def make_model(directory: Path) -> Path:
    """A directory with the files that make it look like a Vosk model."""
    for name in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf"):
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(b"model")
    return directory


def model_zip(name: str = DEFAULT_MODEL, files: tuple[str, ...] = ("am/final.mdl",
              "conf/model.conf"), extra: Mapping[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for f in files:
            archive.writestr(f"{name}/{f}", b"model data " * 100)
        for member, data in (extra or {}).items():
            archive.writestr(member, data)
    return buffer.getvalue()


# --- grammar and results ----------------------------------------------------------------


def test_grammar_lists_each_phrase_and_the_unknown_word() -> None:
    grammar = json.loads(vosk_grammar(PHRASES))
    assert grammar == ["yes", "no", "call nine one one", "[unk]"]


def test_grammar_words_outside_ascii_reach_vosk_as_written() -> None:
    grammar = vosk_grammar([("네",), ("아니요",)])
    assert '"네"' in grammar and "\\u" not in grammar  # Vosk does not unescape \ub124
    assert json.loads(grammar) == ["네", "아니요", "[unk]"]
    assert json.loads(vosk_grammar([("네",)], unknown=False)) == ["네"]


def test_phrases_in_other_scripts_survive_normalisation_and_english_is_unchanged() -> None:
    korean = Vocabulary(("네", "아니요", "네, 맞아요"))
    assert phrase_table(korean) == {("네",): "네", ("아니요",): "아니요",
                                    ("네", "맞아요"): "네, 맞아요"}
    assert spoken_words("Don't call 911!") == ("don't", "call", "nine", "one", "one")
    assert normalize("Sí, I\u2019m light-headed") == "si im light headed"
    assert normalize("아니요.") == "아니요" and normalize("네 🙂") == "네"


def test_phrases_written_without_apostrophes_use_the_model_spelling() -> None:
    model_words = {"i", "don't", "know", "im", "i'm", "fine"}
    assert spellings(("i", "dont", "know"), model_words.__contains__) == [("i", "don't", "know")]
    assert spellings(("im", "fine"), model_words.__contains__) == [("im", "fine"), ("i'm", "fine")]
    assert spellings(("zorblax",), model_words.__contains__) == []
    table = {("i", "dont", "know"): "i dont know"}
    result = json.dumps({"result": [word("i", 0.9), word("don't", 0.8), word("know", 0.9)]})
    assert parse_final(result, table) == Hypothesis("i dont know", 0.8, final=True)


def word(text: str, conf: float) -> dict[str, Any]:
    return {"conf": conf, "start": 0.1, "end": 0.4, "word": text}


def test_final_result_is_the_vocabulary_phrase_with_its_weakest_word_confidence() -> None:
    result = json.dumps({"result": [word("call", 0.99), word("nine", 0.62), word("one", 0.9),
                                    word("one", 0.95)], "text": "call nine one one"})
    assert parse_final(result, PHRASES) == Hypothesis("call 911", 0.62, final=True)


def test_unknown_word_means_not_an_answer() -> None:
    result = json.dumps({"result": [word("[unk]", 0.8), word("yes", 0.97)],
                         "text": "[unk] yes"})
    assert parse_final(result, PHRASES) == Hypothesis("", 0.0, final=True)


@pytest.mark.parametrize("result", ['{"text": ""}', "{}", "not json", "[1, 2]",
                                    '{"text": "maybe"}'])
def test_empty_or_strange_results_are_not_answers(result: str) -> None:
    assert parse_final(result, PHRASES) == Hypothesis("", 0.0, final=True)


def test_result_without_word_details_still_gives_the_phrase() -> None:
    assert parse_final('{"text": "no"}', PHRASES) == Hypothesis("no", None, final=True)


def test_partials_name_complete_phrases_only() -> None:
    assert parse_partial('{"partial": "call nine one one"}', PHRASES) == \
        Hypothesis("call 911", None, final=False)
    assert parse_partial('{"partial": "call nine"}', PHRASES) is None
    assert parse_partial('{"partial": "[unk]"}', PHRASES) is None
    assert parse_partial('{"partial": ""}', PHRASES) is None


# --- model lookup -----------------------------------------------------------------------


def test_lookup_order_explicit_then_env_then_repo_then_vosk_dirs(tmp_path: Path) -> None:
    explicit = make_model(tmp_path / "mine")
    env_dir = tmp_path / "env"
    env_model = make_model(env_dir / "vosk-model-en-us-0.22")
    repo = tmp_path / "models"
    repo_model = make_model(repo / DEFAULT_MODEL)
    system = tmp_path / "share"
    system_model = make_model(system / "vosk-model-small-en-us-0.15")
    env = {"VOSK_MODEL_PATH": str(env_dir)}

    assert find_model(explicit, repo, env, [system]) == explicit
    assert find_model(None, repo, env, [system]) == env_model
    assert find_model(None, repo, {}, [system]) == repo_model
    assert find_model(None, tmp_path / "empty", {}, [system]) == system_model
    with pytest.raises(ModelNotFound):
        find_model(None, tmp_path / "empty", {}, [tmp_path / "nowhere"])


def test_env_var_may_name_the_model_itself(tmp_path: Path) -> None:
    model = make_model(tmp_path / "anything")
    assert find_model(None, tmp_path / "models", {"VOSK_MODEL_PATH": str(model)}, []) == model


def installed_distribution(site: Path, name: str, files: dict[str, bytes]) -> None:
    """A distribution as pip leaves it in site-packages: its files and a RECORD of them."""
    for relative, data in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(data)
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files) + f"{info.name}/RECORD,,\n")


def test_a_model_inside_an_installed_package_is_found_for_its_language(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    model_files = {f"vosk_model_small_de/data/{f}": b"model" for f in
                   ("am/final.mdl", "conf/model.conf")}
    installed_distribution(site, "vosk-model-small-de", model_files)
    installed_distribution(site, "vosk-model-broken", {"vosk_model_broken/conf/model.conf": b""})
    installed_distribution(site, "unrelated", {"unrelated/conf/model.conf": b""})
    packaged = vosk_models.packaged_models([str(site)])
    assert packaged == [vosk_models.PackagedModel("vosk-model-small-de",
                                                  site / "vosk_model_small_de" / "data")]
    empty = tmp_path / "models"
    assert find_model(None, empty, {}, [], lang="de", packages=packaged) == packaged[0].path
    with pytest.raises(ModelNotFound, match="installed Python packages"):
        find_model(None, empty, {}, [], packages=packaged)  # English is asked for by default
    folder_model = make_model(empty / "vosk-model-small-de-0.15")
    assert find_model(None, empty, {}, [], lang="de", packages=packaged) == folder_model


def test_the_small_english_model_is_preferred_and_other_languages_ignored(tmp_path: Path) -> None:
    make_model(tmp_path / "vosk-model-small-de-0.15")
    assert vosk_models.model_in(tmp_path) is None
    make_model(tmp_path / "vosk-model-en-us-0.22")
    preferred = make_model(tmp_path / DEFAULT_MODEL)
    assert vosk_models.model_in(tmp_path) == preferred


def test_an_explicit_path_that_is_not_a_model_is_an_error_not_replaced(tmp_path: Path) -> None:
    make_model(tmp_path / "models" / DEFAULT_MODEL)
    with pytest.raises(ModelNotFound, match="is not a Vosk model"):
        find_model(tmp_path / "typo", tmp_path / "models", {}, [])


def test_offline_the_message_says_what_to_download_and_where(tmp_path: Path) -> None:
    models = tmp_path / "models"
    started = time.perf_counter()
    with pytest.raises(ModelNotFound) as problem:
        ensure_model(None, models, notify=lambda m: None, env={}, search_dirs=[],
                     reachable=lambda: False)
    assert time.perf_counter() - started < 1.0
    message = str(problem.value)
    assert f"https://alphacephei.com/vosk/models/{DEFAULT_MODEL}.zip" in message
    assert str(models) in message and "am/final.mdl" in message
    assert "cannot be reached" in message
    assert not models.exists()  # nothing half-created


def test_reachability_check_gives_up_quickly() -> None:
    started = time.perf_counter()
    assert network_reachable("https://vosk.invalid/model-list.json", timeout=0.5) is False
    assert time.perf_counter() - started < 1.5


# --- download ---------------------------------------------------------------------------


class FakeResponse:
    def __init__(self, body: bytes = b"", json_body: Any = None, status_error: bool = False,
                 fail_midway: bool = False) -> None:
        self.body, self.json_body = body, json_body
        self.status_error, self.fail_midway = status_error, fail_midway
        self.headers = {"content-length": str(len(body))} if body else {}
        self.status_code = 200

    def raise_for_status(self) -> None:
        if self.status_error:
            raise OSError("404 Not Found")

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        if self.fail_midway:
            yield self.body[:100]
            raise OSError("connection reset")
        for start in range(0, len(self.body), chunk_size):
            yield self.body[start:start + chunk_size]

    def json(self) -> Any:
        if self.json_body is None:
            raise ValueError("no json")
        return self.json_body


class FakeSession:
    """Serves a model list and a zip the way alphacephei.com does."""

    def __init__(self, archive: bytes | None, entry: Mapping[str, Any] | None = None,
                 fail_midway: bool = False) -> None:
        self.archive, self.entry, self.fail_midway = archive, entry, fail_midway
        self.urls: list[str] = []

    def get(self, url: str, *, timeout: float, stream: bool = False,
            headers: Mapping[str, str] | None = None) -> FakeResponse:
        self.urls.append(url)
        assert timeout <= 30
        if url.endswith("model-list.json"):
            return FakeResponse(json_body=[self.entry] if self.entry else [])
        if self.archive is None:
            raise OSError("network is unreachable")
        return FakeResponse(self.archive, fail_midway=self.fail_midway)


def entry_for(archive: bytes, **changes: Any) -> dict[str, Any]:
    entry = {"name": DEFAULT_MODEL, "lang": "en-us", "type": "small", "obsolete": "false",
             "url": f"https://alphacephei.com/vosk/models/{DEFAULT_MODEL}.zip",
             "size": len(archive), "md5": hashlib.md5(archive).hexdigest()}
    return {**entry, **changes}


def test_download_verifies_and_unpacks_the_model(tmp_path: Path) -> None:
    archive = model_zip()
    session = FakeSession(archive, entry_for(archive))
    path = download_model(tmp_path, session=session, progress=False)
    assert path == tmp_path / DEFAULT_MODEL and vosk_models.is_model_dir(path)
    assert session.urls[-1].endswith(f"{DEFAULT_MODEL}.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == [DEFAULT_MODEL]  # no zip left behind


def test_ensure_model_downloads_when_online(tmp_path: Path) -> None:
    archive = model_zip()
    told: list[str] = []
    path = ensure_model(None, tmp_path / "models", notify=told.append, env={}, search_dirs=[],
                        reachable=lambda: True, session=FakeSession(archive, entry_for(archive)))
    assert vosk_models.is_model_dir(path)
    assert any("Downloading" in m for m in told)


@pytest.mark.parametrize(("archive", "changes", "complaint"), [
    (model_zip(), {"md5": "0" * 32}, "MD5"),
    (model_zip(), {"size": 10}, "expected 10"),
    (model_zip(files=("README",)), {}, "missing am/final.mdl"),
    (b"<html>not found</html>", {}, "not a valid zip"),
])
def test_a_bad_download_is_refused_and_removed(tmp_path: Path, archive: bytes,
                                               changes: dict[str, Any], complaint: str) -> None:
    session = FakeSession(archive, entry_for(archive, **changes))
    with pytest.raises(ModelNotFound, match=complaint) as problem:
        download_model(tmp_path, session=session, progress=False)
    assert "unzip it into" in str(problem.value)  # and how to do it by hand
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_says_so_and_how_to_do_it_by_hand(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vosk_models, "RETRY_PAUSE_S", 0.0)
    for session in (FakeSession(None), FakeSession(model_zip(), fail_midway=True)):
        with pytest.raises(ModelNotFound, match="failed") as problem:
            download_model(tmp_path, session=session, progress=False)
        assert f"{DEFAULT_MODEL}.zip" in str(problem.value)
        assert list(tmp_path.iterdir()) == []


def test_zip_verification(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    good.write_bytes(model_zip())
    verify_model_zip(good, DEFAULT_MODEL)
    evil = tmp_path / "evil.zip"
    evil.write_bytes(model_zip(extra={"../outside.txt": b"x"}))
    with pytest.raises(ModelNotFound, match="unsafe"):
        verify_model_zip(evil, DEFAULT_MODEL)
    damaged = tmp_path / "damaged.zip"
    data = bytearray(model_zip())
    at = data.find(b"model data")
    data[at:at + 5] = b"XXXXX"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelNotFound, match="damaged"):
        verify_model_zip(damaged, DEFAULT_MODEL)


# --- the recognizer with a fake vosk ----------------------------------------------------


class FakeKaldi:
    """Plays back scripted results; records how it was made and used (vosk's method names)."""

    made: ClassVar[list[tuple[int, str]]] = []
    script: ClassVar[list[tuple[bool, str]]] = []

    def __init__(self, model: Any, rate: int, grammar: str) -> None:
        FakeKaldi.made.append((rate, grammar))
        self.resets = 0
        self.words = False
        self.pending = list(FakeKaldi.script)
        self.final = '{"text": ""}'

    def SetWords(self, enable: bool) -> None:
        self.words = enable

    def Reset(self) -> None:
        self.resets += 1
        self.pending = list(FakeKaldi.script)

    def AcceptWaveform(self, data: bytes) -> bool:
        done, text = self.pending.pop(0) if self.pending else (False, '{"partial": ""}')
        if done:
            self.last = text
        else:
            self.partial = text
        return done

    def Result(self) -> str:
        return self.last

    def PartialResult(self) -> str:
        return self.partial

    def FinalResult(self) -> str:
        return self.final


@pytest.fixture()
def fake_vosk(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    calls: dict[str, Any] = {}

    class Model:
        def __init__(self, model_path: str | None = None, model_name: str | None = None,
                     lang: str | None = None) -> None:
            calls.update(model_path=model_path, model_name=model_name, lang=lang)

        def vosk_model_find_word(self, word: str) -> int:
            return 7 if word in {"yes", "no", "stop", "i", "don't", "know", "[unk]"} else -1

    module = types.SimpleNamespace(Model=Model, KaldiRecognizer=FakeKaldi,
                                   SetLogLevel=lambda level: None, calls=calls)
    monkeypatch.setitem(sys.modules, "vosk", module)
    FakeKaldi.made = []
    FakeKaldi.script = []
    return module


def test_model_is_opened_by_path_never_by_name(fake_vosk: types.SimpleNamespace,
                                               tmp_path: Path) -> None:
    recognizer = VoskRecognizer(tmp_path)
    assert isinstance(recognizer, Recognizer)
    assert fake_vosk.calls == {"model_path": str(tmp_path), "model_name": None, "lang": None}


def test_turns_use_a_cached_grammar_recognizer_per_vocabulary(
        fake_vosk: types.SimpleNamespace, tmp_path: Path) -> None:
    told: list[str] = []
    recognizer = VoskRecognizer(tmp_path, notify=told.append)
    yes_no = Vocabulary(("yes", "no", "zorblax"))
    recognizer.begin(yes_no)
    recognizer.begin(Vocabulary(("stop",)))
    recognizer.begin(yes_no)
    assert [json.loads(g) for _, g in FakeKaldi.made] == [["yes", "no", "[unk]"],
                                                          ["stop", "[unk]"]]
    assert all(rate == 16000 for rate, _ in FakeKaldi.made)
    assert any("zorblax" in m for m in told)
    assert recognizer._current.resets == 1 and recognizer._current.words is True


def test_a_model_without_the_unknown_word_is_said_to_guess(
        fake_vosk: types.SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_vosk.Model, "vosk_model_find_word",
                        lambda self, word: 3 if word in {"yes", "no"} else -1)
    told: list[str] = []
    recognizer = VoskRecognizer(tmp_path, notify=told.append)
    recognizer.begin(Vocabulary(("yes", "no")))
    recognizer.begin(Vocabulary(("yes",)))
    assert [json.loads(g) for _, g in FakeKaldi.made] == [["yes", "no"], ["yes"]]
    assert len(told) == 1 and "no [unk] word" in told[0] and "nearest answer" in told[0]


def test_partials_and_final_answer_from_vosk_results(fake_vosk: types.SimpleNamespace,
                                                     tmp_path: Path) -> None:
    FakeKaldi.script = [(False, '{"partial": "yes"}'),
                        (True, json.dumps({"result": [word("yes", 0.93)], "text": "yes"}))]
    recognizer = VoskRecognizer(tmp_path)
    recognizer.begin(Vocabulary(("yes", "no")))
    assert recognizer.accept(b"\0\0" * 480) == Hypothesis("yes", None, final=False)
    assert recognizer.accept(b"\0\0" * 480) == Hypothesis("yes", None, final=False)
    assert recognizer.end() == Hypothesis("yes", 0.93, final=True)  # FinalResult was empty


def test_an_unknown_word_turn_is_no_answer(fake_vosk: types.SimpleNamespace,
                                           tmp_path: Path) -> None:
    recognizer = VoskRecognizer(tmp_path)
    recognizer.begin(Vocabulary(("yes", "no")))
    recognizer._current.final = json.dumps({"result": [word("[unk]", 1.0)], "text": "[unk]"})
    recognizer.accept(b"\0\0" * 480)
    assert recognizer.end() == Hypothesis("", 0.0, final=True)


# --- choosing the engine ----------------------------------------------------------------


def test_auto_falls_back_to_moonshine_and_says_what_to_download(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.setattr(vosk_models, "vosk_search_dirs", lambda: [])
    told: list[str] = []
    recognizer = make_recognizer("auto", None, tmp_path / "models", told.append, download=False)
    assert recognizer.name == "moonshine+pocketsphinx"
    assert len(told) == 1 and f"{DEFAULT_MODEL}.zip" in told[0]
    assert str(tmp_path / "models") in told[0] and "Moonshine" in told[0]


def test_without_moonshine_auto_falls_back_to_pocketsphinx_and_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.setattr(vosk_models, "vosk_search_dirs", lambda: [])
    monkeypatch.setitem(sys.modules, "moonshine_voice", None)
    monkeypatch.setitem(sys.modules, "moonshine_voice.utils", None)
    told: list[str] = []
    recognizer = make_recognizer("auto", None, tmp_path / "models", told.append, download=False)
    assert recognizer.name == "pocketsphinx"
    assert len(told) == 1 and f"{DEFAULT_MODEL}.zip" in told[0]
    assert "pip install moonshine-voice==0.1.0" in told[0]


def test_asking_for_vosk_without_a_model_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.setattr(vosk_models, "vosk_search_dirs", lambda: [])
    with pytest.raises(ModelNotFound, match="Download"):
        make_recognizer("vosk", None, tmp_path, lambda m: None, download=False)
    with pytest.raises(AsrSetupError, match="Unknown speech engine"):
        make_recognizer("whisper", None, tmp_path, lambda m: None)


def test_a_missing_vosk_package_is_explained(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vosk", None)  # import vosk now raises ImportError
    with pytest.raises(AsrSetupError, match="pip install vosk"):
        make_recognizer("vosk", None, tmp_path, lambda m: None, download=False)
    told: list[str] = []
    assert make_recognizer("auto", None, tmp_path, told.append).name == "moonshine+pocketsphinx"
    assert "pip install vosk" in told[0]


# --- real recognition, only with a model ------------------------------------------------


def _real_model() -> Path | None:
    try:
        return find_model(None, Path(__file__).resolve().parents[1] / "models")
    except ModelNotFound:
        return None


@pytest.mark.skipif(_real_model() is None,
                    reason="no Vosk model is reachable here (models/, $VOSK_MODEL_PATH and "
                           "Vosk's own folders are empty, and it cannot be downloaded offline)")
def test_vosk_hears_a_real_yes() -> None:
    from bench.hearing import load_clips, recognize_clips

    model = _real_model()
    assert model is not None
    recognizer = VoskRecognizer(model)
    clips = load_clips(labels=["yes", "_unknown_"], per_label=10)
    outcomes = recognize_clips(recognizer, Vocabulary(("yes", "no", "stop", "help")), clips)
    heard = [o.text for o in outcomes if o.clip.label == "yes"]
    strangers = [o.text for o in outcomes if o.clip.label == "_unknown_"]
    assert heard.count("yes") >= 8
    assert sum(bool(t) for t in strangers) <= 2
