"""Spoken replies: the system's own voice, OpenAI's voices, or none; and stoppable playback.

Every speaker has the same three-part surface (``Speaker``): ``say`` returns at once and speaks on
the speaker's own thread, ``stop`` silences it at once (barge-in: the hotkey was pressed while
Segue was talking), and ``speaking`` tells whether it is talking. A new ``say`` replaces what is
being said. Speaking is best effort: a machine without a voice engine or a sound output logs one
line and stays quiet; it never raises into the caller.

Playback goes through ``Playback``, a sounddevice output stream fed from memory, so stopping is an
``abort()`` of that stream (immediate) rather than killing a player process.

``SystemVoice`` uses pyttsx3 (espeak-ng on Linux, SAPI on Windows, NSSpeechSynthesizer on macOS)
to render each reply to a WAV file and plays that. pyttsx3 runs in a small helper process, because
its engines want the main thread of their process (NSSpeechSynthesizer, SAPI's COM apartment),
its espeak driver keeps process-wide state, and it prints "Audio saved to ..." on stdout, which
must not end up in ``segue say --json`` output. Measured with espeak-ng through PulseAudio:
starting the helper takes about 0.2 s (``warm()`` does it ahead of time), rendering a reply about
0.01 s; the first sound comes 0.1-0.25 s after ``say`` and the last 20-40 ms after ``stop``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.errors import VoiceError
from assistant.voice.audio import resample

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import numpy as np
    import numpy.typing as npt
    import openai

    Samples = npt.NDArray[np.int16]
    """Mono 16-bit samples. numpy is imported where sound is made or played, not at start."""

logger = logging.getLogger(__name__)

Device = int | str | None

# OpenAI's ``pcm`` response format: raw 24 kHz, 16-bit little-endian, mono.
OPENAI_PCM_RATE = 24_000
# How long the helper process may take to start, and to render one reply.
_SYNTH_START_TIMEOUT_S = 20.0
_SYNTH_TIMEOUT_S = 20.0
# How long the helper waits for the engine's "finished" notice before looking at the file itself.
_SYNTH_GRACE_S = 0.5


class Speaker(Protocol):
    """Something that reads replies aloud."""

    def say(self, text: str, *, after: bool = False) -> None:
        """Start speaking ``text`` (replacing anything being said) and return at once.

        ``after=True`` says it once what is being said ends (a reply read sentence by sentence).
        """
        ...

    def stop(self) -> None:
        """Stop speaking at once."""
        ...

    @property
    def speaking(self) -> bool:
        """Whether a reply is being spoken, or is about to be."""
        ...


# --------------------------------------------------------------------------------------------
# Playback
# --------------------------------------------------------------------------------------------


class Playback:
    """Plays 16-bit mono samples through sounddevice; starts at once, stops at once.

    The PortAudio callback only copies the next slice of the samples into its buffer. A daemon
    thread closes the stream once it has played out.
    """

    def __init__(self, samples: Samples, rate: int, *, device: Device = None) -> None:
        """Open an output stream and start playing.

        Args:
            samples: Mono int16 samples.
            rate: Their sample rate.
            device: Output device (name or index), or None for the system default.

        Raises:
            VoiceError: There is no usable sound output (no PortAudio, no device, device busy).
        """
        try:
            import sounddevice as sd
        except OSError as err:  # sounddevice raises OSError when the PortAudio library is missing
            raise VoiceError(
                "Segue cannot play sound: the PortAudio library is missing (libportaudio2)."
            ) from err
        import numpy as np

        self._sd = sd
        self._samples = np.ascontiguousarray(samples, dtype=np.int16)
        self._position = 0
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._stream = self._open(rate, device)
        except (sd.PortAudioError, ValueError) as err:
            raise VoiceError(f"Segue cannot play sound on this computer ({err}).") from err
        try:
            self._stream.start()
        except sd.PortAudioError as err:
            self._stream.close()
            raise VoiceError(f"Segue cannot play sound on this computer ({err}).") from err
        self.duration_s = len(self._samples) / float(self._stream.samplerate)
        threading.Thread(target=self._close_when_done, name="segue-playback", daemon=True).start()

    def _open(self, rate: int, device: Device) -> Any:
        sd = self._sd
        try:
            return sd.OutputStream(
                samplerate=rate,
                channels=1,
                dtype="int16",
                device=device,
                callback=self._callback,
                finished_callback=self._finished.set,
            )
        except sd.PortAudioError:
            # Some devices (ALSA hw:, WASAPI exclusive) take only their own rate: convert to it.
            default_rate = int(sd.query_devices(device, kind="output")["default_samplerate"])
            if default_rate == rate:
                raise
            import numpy as np

            converted = resample(self._samples, rate, default_rate)
            self._samples = np.clip(np.round(converted), -32768, 32767).astype(np.int16)
            return sd.OutputStream(
                samplerate=default_rate,
                channels=1,
                dtype="int16",
                device=device,
                callback=self._callback,
                finished_callback=self._finished.set,
            )

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        chunk = self._samples[self._position : self._position + frames]
        count = len(chunk)
        outdata[:count, 0] = chunk
        self._position += count
        if count < frames:
            outdata[count:] = 0
            raise self._sd.CallbackStop

    @property
    def playing(self) -> bool:
        """Whether sound is still coming out."""
        return not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the sound has played out or was stopped; returns False on timeout."""
        return self._finished.wait(timeout)

    def stop(self) -> None:
        """Stop at once, dropping whatever is still buffered."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._stream.abort()
                self._stream.close()
            except self._sd.PortAudioError as err:
                logger.debug("Closing the output stream failed: %s", err)
        self._finished.set()

    def _close_when_done(self) -> None:
        self._finished.wait()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._stream.close()
            except self._sd.PortAudioError as err:
                logger.debug("Closing the output stream failed: %s", err)


def read_sound(path: str | os.PathLike[str]) -> tuple[Samples, int]:
    """Read a sound file as mono int16 samples.

    Args:
        path: A WAV (or anything libsndfile reads).

    Returns:
        The samples (channels averaged) and their sample rate.
    """
    import numpy as np
    import soundfile as sf  # type: ignore[import-untyped, unused-ignore]

    data, rate = sf.read(os.fspath(path), dtype="int16", always_2d=True)
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1).astype(np.int16)
    return np.ascontiguousarray(mono, dtype=np.int16), int(rate)


# --------------------------------------------------------------------------------------------
# Speakers
# --------------------------------------------------------------------------------------------


class _QueuedSpeaker:
    """A speaker with one worker thread: renders the latest reply, then plays it.

    ``say`` and ``stop`` bump a generation number; the worker drops any rendering or playback
    whose generation is no longer current, so a stopped reply never starts to play.
    """

    def __init__(self, *, device: Device, thread_name: str) -> None:
        self.device = device
        self._thread_name = thread_name
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._generation = 0
        self._pending: list[str] = []
        self._active_generation: int | None = None
        self._playback: Playback | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._output_failed = False

    def say(self, text: str, *, after: bool = False) -> None:
        """Start speaking ``text`` (replacing anything being said) and return at once.

        Args:
            text: The reply; blank text is ignored.
            after: Say it after what is being said (and what waits to be), instead of
                interrupting: the next sentence of a reply read while it is written.
        """
        text = " ".join(text.split())
        if not text:
            return
        playback = None
        with self._lock:
            if self._closed:
                return
            if after and self._speaking():
                self._pending.append(text)
            else:
                self._generation += 1
                self._pending = [text]
                playback, self._playback = self._playback, None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self._thread_name, daemon=True
                )
                self._thread.start()
            self._wake.notify_all()
        if playback is not None:
            playback.stop()

    def stop(self) -> None:
        """Stop speaking at once (barge-in); a reply still being rendered is dropped."""
        with self._lock:
            self._generation += 1
            self._pending = []
            playback, self._playback = self._playback, None
            self._wake.notify_all()
        if playback is not None:
            playback.stop()

    @property
    def speaking(self) -> bool:
        """Whether a reply is being spoken, or is about to be."""
        with self._lock:
            return self._speaking()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is being said (a command-line run waits before it exits).

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes.

        Returns:
            True when the speaker fell silent, False on timeout.
        """
        with self._wake:
            return self._wake.wait_for(lambda: not self._speaking(), timeout)

    def _speaking(self) -> bool:
        return bool(self._pending) or self._active_generation == self._generation

    def close(self) -> None:
        """Stop speaking and end the worker thread (the speaker cannot be used afterwards)."""
        self.stop()
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _render(self, text: str) -> tuple[Samples, int] | None:
        """Turn text into samples; None when nothing can be spoken."""
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._active_generation = None
                    self._wake.notify_all()  # for wait()
                    self._wake.wait()
                if self._closed:
                    self._active_generation = None
                    self._wake.notify_all()
                    return
                text, generation = self._pending.pop(0), self._generation
                self._active_generation = generation
            assert text is not None
            try:
                rendered = self._render(text)
            except Exception:  # top of the speaker's thread: log it, keep the thread alive
                logger.exception("Rendering a spoken reply failed")
                rendered = None
            playback = self._start_playback(rendered, generation)
            if playback is not None:
                playback.wait()
                with self._lock:
                    if self._playback is playback:
                        self._playback = None

    def _start_playback(
        self, rendered: tuple[Samples, int] | None, generation: int
    ) -> Playback | None:
        with self._lock:
            if rendered is None or generation != self._generation or self._closed:
                return None
            samples, rate = rendered
            try:
                # Started under the lock, so a stop() cannot slip in before it is known.
                playback = Playback(samples, rate, device=self.device)
            except VoiceError as err:
                if not self._output_failed:
                    logger.warning("%s Replies will not be spoken.", err.user_message)
                    self._output_failed = True
                return None
            self._output_failed = False
            self._playback = playback
            return playback


class SilentVoice:
    """A speaker that says nothing (spoken replies turned off)."""

    def say(self, text: str, *, after: bool = False) -> None:
        """Do nothing."""

    def stop(self) -> None:
        """Do nothing."""

    @property
    def speaking(self) -> bool:
        """Always False."""
        return False

    def wait(self, timeout: float | None = None) -> bool:
        """Return True at once: there is nothing to wait for."""
        return True

    def close(self) -> None:
        """Do nothing."""


class SystemVoice(_QueuedSpeaker):
    """Speaks with the operating system's voice through pyttsx3 (in a helper process).

    Where no voice engine exists (no espeak-ng library, pyttsx3 missing), the first ``say`` logs
    one warning and the speaker stays quiet from then on.
    """

    def __init__(
        self,
        *,
        rate_wpm: int | None = None,
        voice: str | None = None,
        driver: str | None = None,
        device: Device = None,
    ) -> None:
        """Describe the voice (the helper process starts on first use, or with ``warm()``).

        Args:
            rate_wpm: Speaking rate in words per minute; None for the engine's default.
            voice: A pyttsx3 voice id; None for the system default.
            driver: A pyttsx3 driver name (``espeak``, ``sapi5``, ``nsss``...); None picks the
                system's own.
            device: Output device (name or index), or None for the system default.
        """
        super().__init__(device=device, thread_name="segue-system-voice")
        self.rate_wpm = rate_wpm
        self.voice = voice
        self.driver = driver
        self._synth: _Synthesizer | None = None
        self._synth_lock = threading.Lock()
        self._unavailable = False

    def warm(self) -> bool:
        """Start the voice engine now, so the first reply is not delayed.

        Returns:
            Whether a voice engine is available.
        """
        return self._synthesizer() is not None

    def synthesize(self, text: str, path: str | os.PathLike[str]) -> bool:
        """Render ``text`` to a WAV file without playing it.

        Args:
            text: What to say.
            path: Where to write the WAV file.

        Returns:
            Whether the file was written (False when no voice engine is available).
        """
        synth = self._synthesizer()
        if synth is None:
            return False
        try:
            synth.render(text, os.fspath(path))
        except VoiceError as err:
            logger.warning("%s", err.user_message)
            return False
        return True

    def close(self) -> None:
        """Stop speaking, end the worker thread and the helper process."""
        super().close()
        with self._synth_lock:
            synth, self._synth = self._synth, None
        if synth is not None:
            synth.close()

    def _synthesizer(self) -> _Synthesizer | None:
        with self._synth_lock:
            if self._synth is None and not self._unavailable:
                try:
                    self._synth = _Synthesizer(self.rate_wpm, self.voice, self.driver)
                except VoiceError as err:
                    logger.warning("%s Replies will not be spoken.", err.user_message)
                    self._unavailable = True
            return self._synth

    def _render(self, text: str) -> tuple[Samples, int] | None:
        synth = self._synthesizer()
        if synth is None:
            return None
        with tempfile.TemporaryDirectory(prefix="segue-voice-") as folder:
            path = Path(folder) / "reply.wav"
            try:
                synth.render(text, str(path))
            except VoiceError as err:
                logger.warning("%s", err.user_message)
                with self._synth_lock:
                    if self._synth is synth:
                        self._synth = None  # start a fresh helper next time
                synth.close()
                return None
            return read_sound(path)


class OpenAIVoice(_QueuedSpeaker):
    """Speaks with one of OpenAI's voices (``/audio/speech``), played once it has arrived.

    A failed request logs one warning; the reply is then not spoken (the text was shown anyway).
    """

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        model: str = "gpt-4o-mini-tts",
        voice: str = "alloy",
        instructions: str | None = None,
        timeout_s: float = 15.0,
        device: Device = None,
    ) -> None:
        """Create a speaker over an OpenAI client.

        Args:
            client: The OpenAI client.
            model: The text-to-speech model.
            voice: The voice name (``alloy``, ``coral``, ``marin``...).
            instructions: How to speak ("calm and brief"), for models that take it.
            timeout_s: Seconds one request may take; a late reply is not spoken.
            device: Output device (name or index), or None for the system default.
        """
        super().__init__(device=device, thread_name="segue-openai-voice")
        self.model = model
        self.voice = voice
        self.instructions = instructions
        self._client = client.with_options(timeout=timeout_s, max_retries=0)

    def _render(self, text: str) -> tuple[Samples, int] | None:
        import openai

        options: dict[str, Any] = {}
        if self.instructions:
            options["instructions"] = self.instructions
        try:
            response = self._client.audio.speech.create(
                model=self.model,
                voice=self.voice,
                input=text[:4096],  # the API's limit; replies are far shorter
                response_format="pcm",
                **options,
            )
            data = response.content
        except openai.OpenAIError as err:
            logger.warning(
                "OpenAI's speech service did not speak the reply (%s); it was shown instead.",
                type(err).__name__,
            )
            return None
        import numpy as np

        usable = len(data) - len(data) % 2
        return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16), OPENAI_PCM_RATE


# --------------------------------------------------------------------------------------------
# The pyttsx3 helper process
# --------------------------------------------------------------------------------------------


class _Synthesizer:
    """A helper process running pyttsx3: it renders text to WAV files on request."""

    def __init__(self, rate_wpm: int | None, voice: str | None, driver: str | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_synthesis_worker,
            args=(child, rate_wpm, voice, driver),
            name="segue-voice-engine",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        status, detail = self._receive(_SYNTH_START_TIMEOUT_S, "start")
        if status != "ready":
            self.close()
            raise VoiceError(f"No system voice is available ({detail}).")

    def render(self, text: str, path: str) -> None:
        with self._lock:
            try:
                self._conn.send((text, path))
            except (OSError, ValueError) as err:
                raise VoiceError("The system voice stopped working.") from err
            status, detail = self._receive(_SYNTH_TIMEOUT_S + 5, "speak")
        if status != "ok":
            raise VoiceError(f"The system voice could not speak ({detail}).")

    def _receive(self, timeout: float, what: str) -> tuple[str, str]:
        try:
            if not self._conn.poll(timeout):
                return "error", f"the voice engine did not {what} within {timeout:g} s"
            message = self._conn.recv()
        except (EOFError, OSError) as err:
            return "error", f"the voice engine exited ({type(err).__name__})"
        status, detail = message
        return str(status), str(detail)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=2)
        self._conn.close()


def _synthesis_worker(
    conn: Connection, rate_wpm: int | None, voice: str | None, driver: str | None
) -> None:
    """Body of the helper process: pyttsx3 on its main thread, driven over a pipe."""
    # pyttsx3's espeak driver prints "Audio saved to ..." for every file.
    sys.stdout = open(os.devnull, "w")  # lives as long as this process
    try:
        import pyttsx3

        engine = pyttsx3.init(driver)
        if rate_wpm is not None:
            engine.setProperty("rate", rate_wpm)
        if voice is not None:
            engine.setProperty("voice", voice)
    except Exception as err:  # pyttsx3 raises anything from ImportError to RuntimeError
        conn.send(("error", f"{type(err).__name__}: {err}"))
        return
    # pyttsx3's espeak driver synthesises on espeak-ng's own thread: runAndWait() can return
    # before the file is written. Every driver announces "finished-utterance" once it is.
    finished = threading.Event()
    engine.connect("finished-utterance", lambda **_: finished.set())
    conn.send(("ready", ""))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        text, path = request
        try:
            finished.clear()
            engine.save_to_file(text, path)
            engine.runAndWait()
            if not finished.wait(_SYNTH_GRACE_S) and not _has_audio(path):
                finished.wait(_SYNTH_TIMEOUT_S)
            ok = _has_audio(path)
            conn.send(("ok", "") if ok else ("error", "the voice engine wrote no audio"))
        except Exception as err:  # as above: report it to the parent, keep serving
            conn.send(("error", f"{type(err).__name__}: {err}"))


def _has_audio(path: str) -> bool:
    """Whether a file holds more than a WAV header."""
    return os.path.exists(path) and os.path.getsize(path) > 44
