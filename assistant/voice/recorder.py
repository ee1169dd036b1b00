"""Recording from the microphone: hold-to-talk and hands-free, with level events for the UI.

Threads, and what each one does:

- PortAudio's callback thread calls ``_Session.on_block``, which copies the block into a queue and
  returns. Nothing else happens there: no numpy, no logging, no locks.
- The recorder's worker thread (``segue-recorder``, one per recording) takes blocks off the queue,
  keeps them, turns each into a level (0..1) for ``on_level``, runs the speech detector when
  recording hands-free, notices a microphone that stopped delivering audio, and closes the stream
  once the recording has ended by itself.
- Callers: ``start``, ``stop`` and ``cancel`` may come from any thread (the hotkey listener);
  ``record_hands_free`` blocks its caller until the speaker has finished.

sounddevice is imported when a recording starts: without the PortAudio library its import raises
``OSError``, which becomes ``MicrophoneUnavailable`` with what to install.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from assistant.errors import MicrophoneUnavailable
from assistant.voice.audio import (
    FRAME_SAMPLES,
    FRAME_SECONDS,
    SAMPLE_RATE,
    Recording,
    SpeechDetector,
    float_to_pcm16,
    level,
    resample,
)

logger = logging.getLogger(__name__)

LevelCallback = Callable[[float], None]

# Hands-free: speech has begun once 8 of the last 10 frames (0.24 of 0.3 s) are speech. A key
# click, a cough or a short cue picked up from the speakers stays below that.
_ONSET_WINDOW_FRAMES = 10
_ONSET_SPEECH_FRAMES = 8

# How often the worker wakes without audio, to notice a microphone that went quiet.
_POLL_SECONDS = 0.1

# The longest a caller waits for PortAudio to close a stream.
_CLOSE_TIMEOUT_S = 2.0


class _StreamFinished:
    """Queued by PortAudio's finished callback: the stream stopped (by us, or by the device)."""


_FINISHED = _StreamFinished()
# A block and whether PortAudio flagged it (input overflow); the finished marker; None = stop now.
_QueueItem = tuple[bytes, bool] | _StreamFinished | None


class Recorder:
    """Records 16 kHz mono speech from an input device.

    Hold-to-talk: ``start()`` when the key goes down, ``stop()`` when it comes up. Hands-free:
    ``record_hands_free()`` returns once the speaker has been silent for ``end_silence_s``;
    ``start(end_silence_s=...)`` records the same way without blocking (watch ``ended``, then
    collect the recording with ``stop()``).
    Either way a recording ends at ``max_seconds``, and the last one is kept in memory
    (``last_recording``) so a failed upload can be retried without asking the user to repeat.

    Attributes:
        live: Set once the first audio of the current recording has arrived. Under PulseAudio's
            ALSA plugin that is 0.1-2 s after the stream opens; speech before it is not heard, so
            the UI should show "listening" (and tests should start playing) only once it is set.
        ended: Set when the current recording is over: stopped, cancelled, or ended by itself
            (silence after speech, no speech within the start timeout, ``max_seconds``, or a
            microphone that stopped working).
    """

    def __init__(
        self,
        *,
        device: str | None = None,
        max_seconds: float = 30.0,
        on_level: LevelCallback | None = None,
        detector: SpeechDetector | None = None,
        first_audio_timeout_s: float = 5.0,
        stall_timeout_s: float = 2.0,
    ) -> None:
        """Create a recorder; nothing is opened until a recording starts.

        Args:
            device: The input device's name, or part of it (case does not matter); None for the
                system's default input.
            max_seconds: The longest recording; audio after it is dropped and the stream closes.
            on_level: Called with the level (0..1) of every 30 ms block, on the recorder's worker
                thread. It must return quickly and not touch widgets directly.
            detector: The speech detector for hands-free recording (a default one if None).
            first_audio_timeout_s: A microphone that sends nothing for this long after opening
                is reported as unavailable.
            stall_timeout_s: A microphone that stops sending audio for this long during a
                recording is reported as unavailable.
        """
        if max_seconds <= 0:
            raise ValueError(f"max_seconds must be positive, not {max_seconds!r}")
        self.device = device
        self.max_seconds = max_seconds
        self.live = threading.Event()
        self.ended = threading.Event()
        self._on_level = on_level
        self._detector = detector or SpeechDetector()
        self._first_audio_timeout_s = first_audio_timeout_s
        self._stall_timeout_s = stall_timeout_s
        self._lock = threading.Lock()
        self._session: _Session | None = None
        self._last: Recording | None = None
        self._device_name: str | None = None

    @property
    def last_recording(self) -> Recording | None:
        """The last recording that was stopped or ended by itself (not cancelled), if any.

        A recording cut short by a failing microphone is kept too, up to the failure.
        """
        return self._last

    @property
    def recording(self) -> bool:
        """Whether a recording is open (started and not yet stopped, cancelled or collected)."""
        with self._lock:
            return self._session is not None

    @property
    def device_name(self) -> str | None:
        """The full name of the device the current or last recording used."""
        return self._device_name

    def start(self, *, end_silence_s: float | None = None, start_timeout_s: float = 8.0) -> None:
        """Open the microphone and start collecting audio (hold-to-talk).

        Returns once the stream is open; watch ``live`` for the first audio. Calling it while a
        recording is open does nothing.

        Args:
            end_silence_s: None: record until ``stop()`` (or ``max_seconds``). Otherwise the
                recording also ends by itself as a hands-free one does (this long after speech,
                or after ``start_timeout_s`` without speech): ``ended`` is set, and ``stop()``
                returns what was heard.
            start_timeout_s: With ``end_silence_s``, seconds to wait for speech to begin.

        Raises:
            MicrophoneUnavailable: PortAudio is missing, the device is not there, or it cannot be
                opened (busy, unsupported).
        """
        hands_free = None if end_silence_s is None else (end_silence_s, start_timeout_s)
        self._start(hands_free=hands_free, strict=False)

    def stop(self) -> Recording:
        """Close the microphone and return what was heard.

        When no recording is open (never started, already collected, or cancelled) this returns
        an empty Recording.

        Returns:
            The recording, also kept as ``last_recording``.

        Raises:
            MicrophoneUnavailable: The microphone stopped working during the recording; what was
                heard until then is in ``last_recording``.
        """
        with self._lock:
            session = self._session
        if session is None:
            logger.debug("stop() without an open recording")
            return Recording(b"")
        return self._finish(session, keep=True)

    def cancel(self) -> None:
        """Close the microphone and drop what was heard; ``last_recording`` stays as it was."""
        with self._lock:
            session = self._session
        if session is not None:
            self._finish(session, keep=False)

    def record_hands_free(
        self, *, end_silence_s: float = 0.8, start_timeout_s: float = 8.0
    ) -> Recording:
        """Record until the speaker stops talking, and return the recording.

        The recording ends by itself ``end_silence_s`` after speech ends (judged by the speech
        detector, not a timer), after ``start_timeout_s`` of audio without speech, or at
        ``max_seconds``. ``stop()`` from another thread ends it early and ``cancel()`` drops it
        (this then returns an empty Recording).

        Args:
            end_silence_s: Seconds of silence after speech that end the recording.
            start_timeout_s: Seconds to wait for speech to begin.

        Returns:
            The recording, also kept as ``last_recording``. Check it with
            ``SpeechDetector.has_speech``: a recording that timed out holds no speech.

        Raises:
            MicrophoneUnavailable: The microphone is missing, cannot be opened, or stopped
                working (what was heard is then in ``last_recording``).
            RuntimeError: A recording is already open.
        """
        session = self._start(hands_free=(end_silence_s, start_timeout_s), strict=True)
        assert session is not None
        # The worker always ends the recording: at max_seconds of audio, or when audio stops
        # arriving (first_audio_timeout_s / stall_timeout_s). The bound only guards against a bug.
        bound = self.max_seconds + self._first_audio_timeout_s + self._stall_timeout_s + 5.0
        if not session.over.wait(timeout=bound):
            logger.warning("The hands-free recording did not end by itself; stopping it")
        return self._finish(session, keep=True)

    def _start(self, *, hands_free: tuple[float, float] | None, strict: bool) -> _Session | None:
        with self._lock:
            if self._session is not None:
                if strict:
                    raise RuntimeError("a recording is already open")
                logger.debug("start() while recording; ignored")
                return None
            sd = _import_sounddevice()
            index, name = _choose_device(sd, self.device)
            rate = _capture_rate(sd, index, name)
            self.live.clear()
            self.ended.clear()
            session = _Session(
                name=name,
                capture_rate=rate,
                max_seconds=self.max_seconds,
                hands_free=hands_free,
                detector=self._detector,
                on_level=self._on_level,
                live=self.live,
                ended=self.ended,
                first_audio_timeout_s=self._first_audio_timeout_s,
                stall_timeout_s=self._stall_timeout_s,
            )
            session.open(sd, index)
            self._session = session
            self._device_name = name
            logger.info(
                "Recording from %r at %d Hz (%s)",
                name,
                rate,
                "hands-free" if hands_free else "hold-to-talk",
            )
            return session

    def _finish(self, session: _Session, *, keep: bool) -> Recording:
        with session.finish_lock:
            if session.result is None:
                session.close_stream()
                session.blocks.put(None)
                session.thread.join(timeout=5.0)
                session.result = session.recording()
                session.kept = keep
                with self._lock:
                    if self._session is session:
                        self._session = None
                    if keep:
                        self._last = session.result
                logger.info(
                    "Recording %s: %.2f s (%s)",
                    "kept" if keep else "cancelled",
                    session.result.duration_s,
                    session.end_reason or "stopped",
                )
        if not session.kept:
            return Recording(b"")
        if session.error is not None:
            raise session.error
        return session.result


class _Session:
    """One recording: its stream, its queue, its worker thread and what it heard."""

    def __init__(
        self,
        *,
        name: str,
        capture_rate: int,
        max_seconds: float,
        hands_free: tuple[float, float] | None,
        detector: SpeechDetector,
        on_level: LevelCallback | None,
        live: threading.Event,
        ended: threading.Event,
        first_audio_timeout_s: float,
        stall_timeout_s: float,
    ) -> None:
        self.name = name
        self.capture_rate = capture_rate
        self.max_bytes = max(2, round(max_seconds * capture_rate) * 2)
        self.hands_free = hands_free
        self.detector = detector
        self.on_level = on_level
        self.live = live
        self.ended = ended
        self.first_audio_timeout_s = first_audio_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.blocks: queue.SimpleQueue[_QueueItem] = queue.SimpleQueue()
        self.captured = bytearray()
        self.stream: Any = None
        self.stream_lock = threading.Lock()
        self.stream_closed = False
        self.stream_released = threading.Event()
        self.stopping = False  # set just before we stop the stream ourselves
        self.over = threading.Event()  # the recording takes no more audio
        self.end_reason: str | None = None
        self.error: BaseException | None = None
        self.finish_lock = threading.Lock()
        self.result: Recording | None = None
        self.kept = False
        self.overflows = 0
        self.thread = threading.Thread(target=self._run, name="segue-recorder", daemon=True)

    # --- PortAudio's thread -------------------------------------------------------------------

    def on_block(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's callback: copy the block into the queue, nothing else."""
        self.blocks.put((bytes(indata), bool(status)))

    def on_stream_finished(self) -> None:
        """PortAudio's finished callback: the stream stopped, by us or because the device went."""
        self.blocks.put(_FINISHED)

    # --- the caller's thread ------------------------------------------------------------------

    def open(self, sd: Any, index: int | None) -> None:
        """Open and start the input stream, then the worker."""
        try:
            self.stream = sd.RawInputStream(
                device=index,
                samplerate=self.capture_rate,
                channels=1,
                dtype="int16",
                blocksize=round(self.capture_rate * FRAME_SECONDS),
                callback=self.on_block,
                finished_callback=self.on_stream_finished,
            )
            self.stream.start()
        except (sd.PortAudioError, ValueError) as err:
            logger.warning("Opening input device %r failed: %s", self.name, err)
            if self.stream is not None:
                self.close_stream()
            raise MicrophoneUnavailable(
                f"The microphone “{self.name}” could not be opened; close other programs that "
                "use it, or choose another input device in the settings."
            ) from err
        self.thread.start()

    def close_stream(self, *, abort: bool = False) -> None:
        """Stop and close the stream once; every caller returns when it is closed.

        PortAudio's stop waits for the callback thread to notice, which it never does when the
        device has stalled (ALSA's poll blocks): such a stream is aborted instead (its thread is
        cancelled while it waits in poll). A healthy stream is stopped, never aborted, because
        cancelling the callback thread while it runs Python would wreck the interpreter. The
        closing runs on its own thread, so no caller waits longer than ``_CLOSE_TIMEOUT_S``.
        """
        with self.stream_lock:
            first = not self.stream_closed and self.stream is not None
            self.stream_closed = True
            self.stopping = True
        if self.stream is None:
            return
        if first:
            stream = self.stream

            def close() -> None:
                # A stream whose device has gone answers with PortAudio errors: nothing to do.
                if abort:
                    stream.abort(ignore_errors=True)
                else:
                    stream.stop(ignore_errors=True)
                stream.close(ignore_errors=True)
                self.stream_released.set()

            threading.Thread(target=close, name="segue-recorder-close", daemon=True).start()
        if not self.stream_released.wait(timeout=_CLOSE_TIMEOUT_S):
            logger.warning("The input stream of %r did not close; leaving it behind", self.name)

    def recording(self) -> Recording:
        """What was captured, at SAMPLE_RATE."""
        pcm = bytes(self.captured)
        if self.capture_rate != SAMPLE_RATE:
            import numpy as np  # loaded with the first recording, not at start

            samples = np.frombuffer(pcm, dtype="<i2") / 32768.0
            pcm = float_to_pcm16(resample(samples, self.capture_rate, SAMPLE_RATE))
        return Recording(pcm, SAMPLE_RATE)

    # --- the worker thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._consume()
        except Exception as err:  # the top of the worker thread: keep the audio, report the error
            logger.exception("The recorder's worker failed")
            self.error = err
            self.over.set()
            self.close_stream()
        finally:
            if self.overflows:
                logger.info("%d audio blocks arrived late (input overflow)", self.overflows)
            self.over.set()
            self.ended.set()

    def _consume(self) -> None:
        opened_at = time.monotonic()
        last_block_at: float | None = None
        endpointer = (
            _Endpointer(self.detector, self.capture_rate, *self.hands_free)
            if self.hands_free is not None
            else None
        )
        while True:
            try:
                item = self.blocks.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                self._watch(opened_at, last_block_at)
                continue
            if item is None:
                return
            if isinstance(item, _StreamFinished):
                if not self.stopping:
                    self._fail(
                        f"The microphone “{self.name}” stopped working during the recording; "
                        "check that it is still connected and try again."
                    )
                continue
            if self.over.is_set():
                continue
            pcm, flagged = item
            if last_block_at is None:
                self.live.set()
                logger.debug("First audio %.2f s after opening", time.monotonic() - opened_at)
            last_block_at = time.monotonic()
            if flagged:
                self.overflows += 1
            pcm = pcm[: self.max_bytes - len(self.captured)]
            self.captured += pcm
            if self.on_level is not None:
                self.on_level(level(pcm))
            if endpointer is not None:
                reason = endpointer.feed(pcm)
                if reason is not None:
                    self._end(reason)
                    continue
            if len(self.captured) >= self.max_bytes:
                self._end("max_seconds reached")

    def _watch(self, opened_at: float, last_block_at: float | None) -> None:
        if self.over.is_set() or self.stopping:
            return
        now = time.monotonic()
        if last_block_at is None and now - opened_at > self.first_audio_timeout_s:
            self._fail(
                f"The microphone “{self.name}” sent no sound; check that it is connected and "
                "not in use by another program, or choose another input device in the settings.",
                stalled=True,
            )
        elif last_block_at is not None and now - last_block_at > self.stall_timeout_s:
            self._fail(
                f"The microphone “{self.name}” stopped sending sound during the recording; "
                "check that it is still connected and try again.",
                stalled=True,
            )

    def _end(self, reason: str, *, stalled: bool = False) -> None:
        self.end_reason = reason
        self.over.set()
        self.ended.set()
        self.close_stream(abort=stalled)

    def _fail(self, message: str, *, stalled: bool = False) -> None:
        logger.warning(
            "%s (%.2f s were recorded)", message, len(self.captured) / 2 / self.capture_rate
        )
        self.error = MicrophoneUnavailable(message)
        self._end("the microphone failed", stalled=stalled)


class _Endpointer:
    """Decides, 30 ms at a time, when a hands-free recording is over."""

    def __init__(
        self,
        detector: SpeechDetector,
        capture_rate: int,
        end_silence_s: float,
        start_timeout_s: float,
    ) -> None:
        self._detector = detector
        self._to_16k = (
            _LinearResampler(capture_rate, SAMPLE_RATE) if capture_rate != SAMPLE_RATE else None
        )
        self._pending = bytearray()
        self._recent: deque[bool] = deque(maxlen=_ONSET_WINDOW_FRAMES)
        self._end_frames = max(1, round(end_silence_s / FRAME_SECONDS))
        self._start_frames = max(1, round(start_timeout_s / FRAME_SECONDS))
        self._frames = 0
        self._speech_started = False
        self._silent_frames = 0

    def feed(self, pcm: bytes) -> str | None:
        """Take a block at the capture rate; return why the recording is over, or None."""
        self._pending += self._to_16k(pcm) if self._to_16k is not None else pcm
        frame_bytes = FRAME_SAMPLES * 2
        while len(self._pending) >= frame_bytes:
            frame = bytes(self._pending[:frame_bytes])
            del self._pending[:frame_bytes]
            self._frames += 1
            speech = self._detector.is_speech_frame(frame)
            if not self._speech_started:
                self._recent.append(speech)
                if sum(self._recent) >= _ONSET_SPEECH_FRAMES:
                    self._speech_started = True
                    logger.debug("Speech began at %.2f s", self._frames * FRAME_SECONDS)
                elif self._frames >= self._start_frames:
                    return "no speech began"
            elif speech:
                self._silent_frames = 0
            else:
                self._silent_frames += 1
                if self._silent_frames >= self._end_frames:
                    return "speech ended"
        return None


class _LinearResampler:
    """Converts a stream of int16 blocks between rates by linear interpolation.

    Only the speech detector hears this (when a device cannot record at 16 kHz); the recording
    itself is resampled in one piece, band-limited, when it ends.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        import numpy as np  # loaded with the first recording, not at start

        self._step = from_rate / to_rate
        self._tail = np.zeros(0, dtype=np.float64)
        self._position = 0.0  # where the next output sample falls, in samples from _tail[0]

    def __call__(self, pcm: bytes) -> bytes:
        import numpy as np

        signal = np.concatenate([self._tail, np.frombuffer(pcm, dtype="<i2").astype(np.float64)])
        if len(signal) < 2:
            self._tail = signal
            return b""
        positions = np.arange(self._position, len(signal) - 1, self._step)
        out = np.interp(positions, np.arange(len(signal)), signal)
        following = self._position + len(positions) * self._step
        keep_from = int(following)
        self._tail = signal[keep_from:]
        self._position = following - keep_from
        return float_to_pcm16(out / 32768.0)


def input_device_names() -> list[str]:
    """The names of the input devices PortAudio sees, in its order.

    Raises:
        MicrophoneUnavailable: The PortAudio library is missing.
    """
    sd = _import_sounddevice()
    try:
        devices = list(sd.query_devices())
    except sd.PortAudioError:
        return []
    return [str(d["name"]) for d in devices if d["max_input_channels"] > 0]


def _import_sounddevice() -> Any:
    try:
        import sounddevice  # type: ignore[import-untyped, unused-ignore]
    except OSError as err:
        # sounddevice raises OSError("PortAudio library not found") without libportaudio2.
        raise MicrophoneUnavailable(
            "Segue cannot record because the PortAudio library is missing; install it (on Debian "
            "and Ubuntu: sudo apt install libportaudio2) and start Segue again."
        ) from err
    return sounddevice


def _choose_device(sd: Any, wanted: str | None) -> tuple[int | None, str]:
    """Find the input device to open: (index or None for the default, its name)."""
    try:
        devices = list(sd.query_devices())
    except sd.PortAudioError:
        devices = []
    inputs = [(i, d) for i, d in enumerate(devices) if d["max_input_channels"] > 0]
    if wanted is None or not wanted.strip():
        try:
            # With no input device, PortAudio answers "Error querying device -1".
            default = sd.query_devices(kind="input")
        except (sd.PortAudioError, ValueError) as err:
            raise MicrophoneUnavailable(
                "No microphone was found; connect one and check that the sound system "
                "(PulseAudio, PipeWire) is running, then try again."
            ) from err
        return None, str(default["name"])
    key = wanted.strip().casefold()
    matches = [(i, d) for i, d in inputs if d["name"].casefold() == key] or [
        (i, d) for i, d in inputs if key in d["name"].casefold()
    ]
    if not matches:
        if not inputs:
            raise MicrophoneUnavailable(
                f"The input device “{wanted}” was not found and no other microphone is available; "
                "connect it and try again."
            )
        names = ", ".join(f"“{d['name']}”" for _, d in inputs)
        raise MicrophoneUnavailable(
            f"The input device “{wanted}” was not found; set the input device setting to one of "
            f"{names}, or leave it empty for the system default."
        )
    names_matched = sorted({str(d["name"]) for _, d in matches})
    if len(names_matched) > 1:
        listed = ", ".join(f"“{n}”" for n in names_matched)
        raise MicrophoneUnavailable(
            f"“{wanted}” matches several input devices ({listed}); set the input device setting "
            "to the full name of one."
        )
    # Windows lists one microphone under several host APIs (MME, DirectSound, WASAPI): take the
    # entry of the default host API when there is one.
    preferred = [m for m in matches if m[1]["hostapi"] == sd.default.hostapi] or matches
    index, info = preferred[0]
    return index, str(info["name"])


def _capture_rate(sd: Any, index: int | None, name: str) -> int:
    """16 kHz when the device takes it; otherwise its own rate (resampled to 16 kHz later)."""
    try:
        sd.check_input_settings(device=index, channels=1, dtype="int16", samplerate=SAMPLE_RATE)
    except (sd.PortAudioError, ValueError):
        info = sd.query_devices(index, kind="input")
        rate = round(float(info["default_samplerate"]))
        logger.info("Input device %r does not record at 16 kHz; recording at %d Hz", name, rate)
        return rate
    return SAMPLE_RATE
