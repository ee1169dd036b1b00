"""Forced scoring: how well each of a few candidate sentences fits a recording, by the local model.

When the local model's free transcript is not a command ("Cephalon." for "shuffle on", "Scape."
for "skip"), Segue can still pick the command that was said: the model reads each candidate
sentence against the recording and gives each of its tokens a probability. A candidate the
speaker said gets likely tokens; one they did not say gets unlikely ones. The free transcript is
scored the same way, as a yardstick: the model's own best reading of the audio.

How (CTranslate2's ``Whisper.align``, one decoder pass per batch of candidates):

- The recording, followed by ``PAD_S`` of silence, is encoded ONCE. Whisper is trained on 30 s
  windows whose end is silence; without any, short recordings scored badly (Piper's "next":
  " Next." at -10.8 instead of -1.2), while the full 30 s window costs 265 ms to encode on 2 cores.
- Only the words are encoded, with ``KEEP_BEFORE_S`` before the first speech and
  ``KEEP_AFTER_S`` after the last (the recorder's speech detector finds them): a held hotkey
  records seconds of room, and the decoder's cost grows with every frame it reads.
- The decoder reads only the encoder frames of the recording and ``MEMORY_EXTRA_S`` after it:
  its cost per candidate grows with those frames, and the frames further into the silence
  changed the scores little (-1.1 vs -1.2 above), whereas reading none of the silence did (-10.3).
- The encoder output is repeated to the batch's size; ``align`` returns, per candidate, the
  probability of each token given the audio and the tokens before it. ``align`` itself adds
  ``<|notimestamps|>`` after the start sequence and ``<|endoftext|>`` after the text, and
  normalises over text tokens only: the end of the text is not scored.
- A candidate is written as Whisper writes text: a leading space, the first letter capitalised, a
  full stop at the end (``whisper_style``). The full stop stands in for the missing end of text:
  it is unlikely while the audio still has words in it, which is what stops "play" from beating
  "play Hello by Adele". Other letters are kept as given, because case matters: names as the
  catalogue writes them ("Billie Jean", "Adele"), numbers as digits ("volume 30", "40%"), as the
  model writes them. A question mark instead of the full stop for questions made no difference
  to the ranking and brought sentences that are not commands closer to the transcript.

Scores are natural-log probabilities; ``log_prob`` is their sum, ``mean_log_prob`` the sum over
the token count. Rank by the mean. The sum favours short candidates (every token costs), so it
put "play" first for "play Hello by Adele", "mute" for "unmute", "next" for "queue Billie Jean".

Measured (faster-whisper 1.2, CTranslate2 4.8, the bundled tiny.en in int8, 2 cores): 26 commands
of 1.3-3.7 s with 0.5 s of silence at both ends, in 7 voices (espeak-ng en-us 140 wpm and en-gb
170 wpm; Piper's joe at 1.0, 0.85 and 1.15; joe and espeak-ng en-us with pink noise at 15 dB SNR),
each against the same 60 candidates: every command plus confusable ones ("shuffle off"/
"shuffle on", "volume 30"/"volume 40"/"volume 13", "play Hello by Adele"/"play Halo by Beyoncé").

==============================  ======================  ============
                                top-1 by the mean       by the sum
==============================  ======================  ============
recording + 3 s, decoder +1 s   178 of 182 (98%)        162
recording alone                 168 of 182 (92%)        154
full 30 s window, decoder +1 s  176 of 182              160
==============================  ======================  ============

Cost (median, this 2-core machine, idle): encoding a 2-3.3 s recording with its 3 s of silence
takes about 20 ms, then each candidate about 4 ms: see ``ForcedScorer``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.errors import SpeechNotUnderstood
from assistant.voice.audio import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    Recording,
    SpeechDetector,
    resample,
)
from assistant.voice.stt import LocalWhisper

logger = logging.getLogger(__name__)

MAX_BELOW_TRANSCRIPT = 2.0
"""``choose`` takes the best candidate only when its mean log-probability is at most this far
below the free transcript's (natural log, per token). Measured over the 7 voices: right picks at
most 1.24 below for 9 in 10 (1.51 for 19 in 20); sentences that are not commands 2.78 below at
the closest, 4.4 typically."""

MIN_MARGIN = 0.3
"""``choose`` takes the best candidate only when its mean log-probability is at least this far
above the runner-up's. Measured: 1.13 or more for 9 in 10 right picks; wrong picks won by 0.19,
0.20, 0.44 and 1.26 (the last two Piper's "unmute" taken for "mute", which the free transcript
also heard: "I'm mute")."""

PAD_S = 3.0
"""Seconds of silence encoded after the recording (see the module's notes)."""

MEMORY_EXTRA_S = 1.0
"""Seconds of encoder output after the recording that the decoder reads."""

KEEP_BEFORE_S = 0.2
KEEP_AFTER_S = 0.3
"""Seconds of the recording kept before its first and after its last speech (_speech_span)."""

# Candidates per ``align`` call: 8 and 16 were fastest; 32 and more were slower per candidate.
_BATCH_SIZE = 16
# Whisper's decoder reads at most 448 positions: start sequence, <|notimestamps|>, text, end.
_MAX_POSITIONS = 448
# A sentence that already ends like one keeps its own ending.
_SENTENCE_ENDS = (".", "?", "!")
# No probability is exactly zero, but float32 underflows.
_TINY = 1e-30


@dataclass(frozen=True)
class CandidateScore:
    """How well one text fits a recording.

    Attributes:
        text: The text as the caller gave it.
        log_prob: Sum of the natural-log probabilities of its tokens (full stop included).
        tokens: How many tokens were scored.
    """

    text: str
    log_prob: float
    tokens: int

    @property
    def mean_log_prob(self) -> float:
        """The log-probability per token: the score to rank candidates by."""
        return self.log_prob / self.tokens if self.tokens else -math.inf


@dataclass(frozen=True)
class Choice:
    """The candidate that fits a recording best, and whether it fits well enough to act on.

    Attributes:
        accepted: The best candidate when it passed both tests, else None (Segue should say it
            did not understand rather than guess).
        ranked: Every candidate's score, best first (by ``mean_log_prob``).
        transcript: The free transcript's score, read the same way.
        seconds: Wall-clock time the scoring took (encoding included, loading excluded).
    """

    accepted: CandidateScore | None
    ranked: tuple[CandidateScore, ...]
    transcript: CandidateScore
    seconds: float = field(default=0.0, compare=False)

    @property
    def best(self) -> CandidateScore | None:
        """The best candidate, accepted or not."""
        return self.ranked[0] if self.ranked else None

    @property
    def margin(self) -> float:
        """How far (mean log-probability) the best candidate is above the runner-up."""
        if len(self.ranked) < 2:
            return math.inf
        return self.ranked[0].mean_log_prob - self.ranked[1].mean_log_prob

    @property
    def below_transcript(self) -> float:
        """How far (mean log-probability) the best candidate is below the free transcript."""
        if not self.ranked:
            return math.inf
        return self.transcript.mean_log_prob - self.ranked[0].mean_log_prob


def whisper_style(text: str) -> str:
    """Write a candidate as Whisper writes text: leading space, capital first letter, full stop.

    Args:
        text: The candidate ("shuffle on", "play Hello by Adele").

    Returns:
        The text to tokenise (" Shuffle on.", " Play Hello by Adele."); the other letters are
        kept as given, and a text that already ends in ``.``, ``?`` or ``!`` keeps its ending.
        A blank text gives "".
    """
    words = " ".join(text.split())
    if not words:
        return ""
    if not words.endswith(_SENTENCE_ENDS):
        words += "."
    return " " + words[0].upper() + words[1:]


class ForcedScorer:
    """Scores candidate sentences against a recording with the local Whisper model.

    It uses ``LocalWhisper``'s loaded model and holds the lock ``transcribe`` holds, so scoring
    never runs at the same time as a transcription.

    Cost of ``score`` on this project's 2-core machine, idle (median of 5 runs; a 2.0 s and a
    3.3 s recording; candidates of 2-8 words): 10 candidates 80-100 ms, 30 150-175 ms, 60
    245-285 ms, 120 440-540 ms; encoding is about 20 ms of that. Batches of 8 and 16 cost the
    same; 32 and more were slower. A model made with ``num_workers=2`` (two CTranslate2
    replicas, which share the weights) is used from two threads at once: 200-250 ms for 60
    candidates, 360-410 ms for 120.
    """

    def __init__(
        self, whisper: LocalWhisper, *, batch_size: int = _BATCH_SIZE, trim_silence: bool = True
    ) -> None:
        """Score with this recogniser's model (loaded when first needed).

        Args:
            whisper: The local recogniser whose model to use.
            batch_size: Candidates per ``align`` call.
            trim_silence: Score only the words and a little around them (``KEEP_BEFORE_S``,
                ``KEEP_AFTER_S``), not the silence of a long hold.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.whisper = whisper
        self.batch_size = batch_size
        self.trim_silence = trim_silence
        self._tokenizer: Any = None

    def score(self, rec: Recording, candidates: Sequence[str]) -> list[CandidateScore]:
        """Score each candidate against the recording.

        Args:
            rec: The recording (any sample rate; it is converted to 16 kHz).
            candidates: Sentences the speaker may have said, with names cased and numbers as
                digits (see ``whisper_style``); blank ones score ``-inf``.

        Returns:
            One score per candidate, in the order given.

        Raises:
            SpeechNotUnderstood: The recording is empty.
            ModelUnavailable: faster-whisper is not installed, or the model cannot be loaded.
        """
        texts = [whisper_style(candidate) for candidate in candidates]
        return self._score(rec, list(candidates), texts)

    def choose(self, rec: Recording, candidates: Sequence[str], transcript: str) -> Choice:
        """Pick the candidate the recording says, or none when none fits well enough.

        The best candidate (by ``mean_log_prob``) is accepted when it is at most
        ``MAX_BELOW_TRANSCRIPT`` below the free transcript and at least ``MIN_MARGIN`` above the
        runner-up. Measured on 26 commands in 7 voices (182 recordings) against 60 candidates:
        170 accepted and right, 2 wrong (Piper's "unmute" as "mute"), 10 refused; none of 56
        recordings of 8 sentences that are not commands accepted.

        Args:
            rec: The recording.
            candidates: The sentences to choose from.
            transcript: What the recogniser heard in the recording, scored as written (it is
                Whisper's own writing already); when it is blank nothing is accepted.

        Returns:
            The choice, with every score.

        Raises:
            SpeechNotUnderstood: The recording is empty.
            ModelUnavailable: faster-whisper is not installed, or the model cannot be loaded.
        """
        started = time.perf_counter()
        texts = [whisper_style(candidate) for candidate in candidates]
        spoken = " ".join(transcript.split())
        scores = self._score(
            rec, [*candidates, transcript], [*texts, " " + spoken if spoken else ""]
        )
        reference = scores.pop()
        ranked = tuple(sorted(scores, key=lambda s: s.mean_log_prob, reverse=True))
        unjudged = Choice(accepted=None, ranked=ranked, transcript=reference)
        accepted = (
            ranked[0]
            if ranked
            and reference.tokens  # no transcript, no yardstick
            and unjudged.below_transcript <= MAX_BELOW_TRANSCRIPT
            and unjudged.margin >= MIN_MARGIN
            else None
        )
        seconds = time.perf_counter() - started
        if ranked:
            logger.info(
                "Scored %d candidates in %.3f s: best %r (%.2f per token, %.2f above the next, "
                "%.2f below the transcript %r): %s",
                len(ranked),
                seconds,
                ranked[0].text,
                ranked[0].mean_log_prob,
                unjudged.margin,
                unjudged.below_transcript,
                transcript,
                "accepted" if accepted else "refused",
            )
        return Choice(accepted=accepted, ranked=ranked, transcript=reference, seconds=seconds)

    # ----------------------------------------------------------------------------------------

    def _score(
        self, rec: Recording, originals: Sequence[str], texts: Sequence[str]
    ) -> list[CandidateScore]:
        if not rec.pcm:
            raise SpeechNotUnderstood()
        if not texts:
            return []
        whisper = self.whisper
        # LocalWhisper offers no public hold on its model: its loader and its lock are used as
        # its transcribe uses them.
        model = whisper._loaded_model()
        tokenizer = self._tokenizer_for(model)
        limit = _MAX_POSITIONS - len(tokenizer.sot_sequence) - 2
        token_lists = [list(tokenizer.encode(text))[:limit] if text else [] for text in texts]
        # Batches of like lengths: ``align`` pads each batch to its longest candidate.
        unique = sorted(dict.fromkeys(tuple(tokens) for tokens in token_lists if tokens), key=len)
        features, memory_frames = _features(model, rec, trim=self.trim_silence)
        batches = [
            unique[start : start + self.batch_size]
            for start in range(0, len(unique), self.batch_size)
        ]
        with whisper._run_lock:
            encoded = _encode(model, features)[:, :memory_frames]
            workers = min(len(batches), int(getattr(model.model, "num_workers", 1) or 1))
            if workers > 1:
                with ThreadPoolExecutor(workers, thread_name_prefix="rescore") as pool:
                    sums = list(
                        pool.map(lambda batch: _align(model, tokenizer, encoded, batch), batches)
                    )
            else:
                sums = [_align(model, tokenizer, encoded, batch) for batch in batches]
        log_probs = {
            tokens: value
            for batch, values in zip(batches, sums, strict=True)
            for tokens, value in zip(batch, values, strict=True)
        }
        return [
            CandidateScore(text=original, log_prob=log_probs[tuple(tokens)], tokens=len(tokens))
            if tokens
            else CandidateScore(text=original, log_prob=-math.inf, tokens=0)
            for original, tokens in zip(originals, token_lists, strict=True)
        ]

    def _tokenizer_for(self, model: Any) -> Any:
        if self._tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer

            multilingual = bool(model.model.is_multilingual)
            self._tokenizer = Tokenizer(
                model.hf_tokenizer,
                multilingual,
                task="transcribe",
                language=(self.whisper.language or "en") if multilingual else None,
            )
        return self._tokenizer


def _features(model: Any, rec: Recording, *, trim: bool) -> tuple[np.ndarray[Any, Any], int]:
    """Log-mel features of the recording and ``PAD_S`` of silence (at most Whisper's 30 s).

    Returns:
        The features as a (1, mels, frames) float32 array, and how many encoder output frames
        the decoder reads (the recording's and ``MEMORY_EXTRA_S`` more).
    """
    samples: np.ndarray[Any, np.dtype[np.float32]] = (rec.samples() / 32768.0).astype(np.float32)
    if rec.sample_rate != SAMPLE_RATE:
        samples = resample(samples, rec.sample_rate, SAMPLE_RATE).astype(np.float32)
    if trim:
        start, end = _speech_span(rec)
        samples = samples[start:end]
    extractor = model.feature_extractor
    samples = samples[: extractor.n_samples]
    padded = np.pad(samples, (0, min(int(PAD_S * SAMPLE_RATE), extractor.n_samples - len(samples))))
    # The extractor gives one frame more than the samples fill (faster-whisper drops it too); the
    # encoder halves the frames, so an even count keeps every output frame whole.
    features = extractor(padded)[:, :-1]
    frames = max(2, features.shape[-1] - features.shape[-1] % 2)
    if features.shape[-1] < frames:
        features = np.pad(features, ((0, 0), (0, frames - features.shape[-1])))
    hop = extractor.hop_length
    memory = (len(samples) + int(MEMORY_EXTRA_S * SAMPLE_RATE)) // hop // 2
    return (
        np.ascontiguousarray(features[None, :, :frames], dtype=np.float32),
        max(1, min(memory, frames // 2)),
    )


def _speech_span(rec: Recording) -> tuple[int, int | None]:
    """Where the words are, in samples at 16 kHz (the end None: to the end).

    From KEEP_BEFORE_S before the first speech to KEEP_AFTER_S after the last, as the recorder's
    speech detector finds it; all of the recording when it finds none. The decoder's cost grows
    with the frames it reads, and a held hotkey records silence on both sides of the words.
    """
    frames = SpeechDetector().speech_frames(rec)  # 30 ms frames of the audio at 16 kHz
    spoken = [index for index, speech in enumerate(frames) if speech]
    if not spoken:
        return 0, None
    start = max(0, spoken[0] * FRAME_SAMPLES - int(KEEP_BEFORE_S * SAMPLE_RATE))
    return start, (spoken[-1] + 1) * FRAME_SAMPLES + int(KEEP_AFTER_S * SAMPLE_RATE)


def _storage(array: np.ndarray[Any, Any]) -> Any:
    import ctranslate2  # type: ignore[import-untyped, unused-ignore]

    return ctranslate2.StorageView.from_array(array)


def _encode(model: Any, features: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Run Whisper's encoder once; its output as a (1, frames / 2, width) float32 array."""
    encoded = model.model.encode(_storage(features))
    if encoded.device != "cpu":  # a GPU's output is copied out to be repeated (not tried here)
        import ctranslate2  # type: ignore[import-untyped, unused-ignore]

        encoded = encoded.to_device(ctranslate2.Device.cpu)
    return np.array(encoded, dtype=np.float32, copy=True)


def _align(
    model: Any, tokenizer: Any, encoded: np.ndarray[Any, Any], batch: Sequence[Sequence[int]]
) -> list[float]:
    """Sum of the natural-log probabilities of each token list's tokens, given the audio."""
    repeated = np.ascontiguousarray(np.repeat(encoded, len(batch), axis=0))
    results = model.model.align(
        _storage(repeated),
        list(tokenizer.sot_sequence),
        [list(tokens) for tokens in batch],
        # Frames of the features the attention weights (unused here) cover: all that was kept.
        # (Aligning over the least frames with no smoothing gave the same time, measured idle.)
        2 * repeated.shape[1],
    )
    sums: list[float] = []
    for result in results:
        probs = np.asarray(result.text_token_probs, dtype=np.float64)
        sums.append(float(np.log(np.maximum(probs, _TINY)).sum()))
    # ``repeated`` backs the StorageView that align read: it may go only now.
    del repeated
    return sums
