"""Moonshine's tiny English model run directly with ONNX Runtime: it writes what it hears,
and it scores phrases it is asked about.

Why not the moonshine-voice library's own transcriber: it only writes; scoring a phrase
needs the decoder's probabilities, fed the phrase (assistant/asr/phrase_scoring.py). One
model loaded once does both. The model files still come from the moonshine-voice 0.1.0
wheel (its encoder, decoder and tokenizer in ONNX Runtime's format).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.asr.phrase_scoring import (
    END_OF_TEXT,
    START_OF_TEXT,
    FloatArray,
    Spelling,
    log_softmax,
    read_pieces,
    said_log_prob,
    written_forms,
)

LAYERS = 6  # the tiny model's decoder layers
HEADS = 8
HEAD_SIZE = 36
TOKENS_PER_SECOND = 8  # writing stops after this many tokens a second of audio (+ MORE)
MORE_TOKENS = 4
STOPS = (".", ",", "?", "!")


@dataclass(frozen=True)
class Written:
    """What Moonshine wrote for an encoded turn, how likely, and its first step."""

    text: str
    log_prob: float
    first_log_probs: FloatArray  # over every piece, right after <s>


class MoonshineModel:
    """The encoder, the decoder and the tokenizer of one Moonshine model folder."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        self._encoder: Any = onnxruntime.InferenceSession(
            str(folder / "encoder_model.ort"), options, providers=providers)
        self._decoder: Any = onnxruntime.InferenceSession(
            str(folder / "decoder_model_merged.ort"), options, providers=providers)
        self._outputs = [o.name for o in self._decoder.get_outputs()]
        self.spelling = Spelling(read_pieces((folder / "tokenizer.bin").read_bytes()))
        self._stops = [self.spelling.piece(stop) for stop in STOPS]

    def encode(self, samples: FloatArray) -> FloatArray:
        """The encoder's states for mono 16 kHz samples in -1..1."""
        batch = samples.astype(np.float32)[None, :]
        states: FloatArray = self._encoder.run(None, {
            "input_values": batch, "attention_mask": np.ones(batch.shape, np.int64)})[0]
        return states

    def _decode(self, states: FloatArray, ids: np.ndarray, past: dict[str, np.ndarray],
                cached: bool) -> tuple[FloatArray, dict[str, np.ndarray]]:
        feeds: dict[str, Any] = {
            "input_ids": ids, "encoder_hidden_states": states,
            "encoder_attention_mask": np.ones(states.shape[:2], np.int64),
            "use_cache_branch": np.array([cached])}
        feeds.update(past)
        outputs = self._decoder.run(None, feeds)
        present = {name.replace("present", "past_key_values"): value
                   for name, value in zip(self._outputs[1:], outputs[1:], strict=True)}
        return outputs[0], present

    @staticmethod
    def _nothing_before(batch: int) -> dict[str, np.ndarray]:
        empty = np.zeros((batch, HEADS, 0, HEAD_SIZE), np.float32)
        return {f"past_key_values.{layer}.{part}.{kind}": empty for layer in range(LAYERS)
                for part in ("decoder", "encoder") for kind in ("key", "value")}

    def write(self, states: FloatArray, seconds: float) -> Written:
        """Greedy transcription, the likeliest piece each step, until the end or the limit."""
        limit = int(seconds * TOKENS_PER_SECOND) + MORE_TOKENS
        logits, past = self._decode(states, np.array([[START_OF_TEXT]]),
                                    self._nothing_before(1), cached=False)
        first = log_softmax(logits[0, -1])
        steps, ids, total = first, [], 0.0
        for _ in range(limit):
            token = int(steps.argmax())
            total += float(steps[token])
            if token == END_OF_TEXT:
                break
            ids.append(token)
            logits, present = self._decode(states, np.array([[token]]), past, cached=True)
            past.update({k: v for k, v in present.items() if ".decoder." in k})
            steps = log_softmax(logits[0, -1])
        return Written(self.spelling.text(ids), total, first)

    def scores(self, states: FloatArray, phrases: Sequence[str]) -> dict[str, float]:
        """Each phrase's log-probability as the whole text (its likeliest written form)."""
        spelled = [(phrase, self.spelling.tokens(form)) for phrase in phrases
                   for form in written_forms(phrase)]
        if not spelled:
            return {}
        width = max(len(tokens) for _, tokens in spelled) + 2
        ids = np.full((len(spelled), width), END_OF_TEXT, np.int64)
        for row, (_, tokens) in enumerate(spelled):
            ids[row, 0] = START_OF_TEXT
            ids[row, 1:1 + len(tokens)] = tokens
            ids[row, 1 + len(tokens)] = self._stops[0]
        batch = np.repeat(states, len(spelled), axis=0)
        logits, _ = self._decode(batch, ids, self._nothing_before(len(spelled)), cached=False)
        log_probs = log_softmax(logits)
        best: dict[str, float] = {}
        for row, (phrase, tokens) in enumerate(spelled):
            score = said_log_prob(log_probs[row], tokens, self._stops)
            best[phrase] = max(best.get(phrase, -np.inf), score)
        return best

    def first_piece(self, phrase: str) -> int:
        """The first token of the phrase as written (for choosing what to score)."""
        return self.spelling.tokens(written_forms(phrase)[0])[0]
