"""The desktop controller: hotkey, tray, popup and voice around one pipeline worker.

Threads (see DESIGN.md):

- the tray's loop owns the main thread; menu callbacks only call the ``on_*`` methods here;
- the hotkey listener's callbacks call :meth:`Controller.start_talking` / ``stop_talking`` and
  return at once; the tray's Talk item calls :meth:`Controller.on_talk`, which starts a recording
  that ends at the end of speech (or on the next click);
- the *audio* worker (one thread) opens and closes the microphone and plays the cues, so none of
  that blocks the hotkey or the tray; it makes no network call, so a release closes the
  microphone at once;
- beside it, the *volume* worker (one thread) ducks and restores Spotify, in the order asked, and
  the *warm-up* worker (one thread) prepares what the command will need (token, names, model);
  both wait on the network, and neither stands in front of the microphone's closing;
- the *jobs* worker (one thread) runs ``Pipeline.handle`` for each command in order, so Spotify
  commands never race, then shows, notifies and speaks the reply.

Every command and its reply go to the popup's conversation when the popup runs (a spoken one with
what was heard), and to a notification unless the popup is on screen with the focus (the person
is reading it there). A notification about what plays has the track as its title.

A press while a command runs follows ``busy_press``: "queue" runs the new command after the
current one; "cancel" drops queued commands and the running one's reply (its Spotify calls have
already been sent and cannot be called back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal, Protocol

from assistant.agent.reply import step_words
from assistant.desktop.state import NowPlaying, UiState
from assistant.desktop.tray import DeviceEntry
from assistant.errors import SegueError
from assistant.pipeline import Pipeline, Reply, Utterance
from assistant.voice.audio import Recording
from assistant.voice.tts import Speaker

logger = logging.getLogger(__name__)

APP_TITLE = "Segue"
QUIT_SECONDS = 2.0
# How the tray follows a spoken reply: its voice starts within a moment of say(), and a reply is
# a sentence or two.
SPEECH_START_SECONDS = 0.5
SPEECH_MAX_SECONDS = 30.0
SPEECH_POLL_SECONDS = 0.1
CUE_WAIT_SECONDS = 0.5
RECORDING_END_GRACE_SECONDS = 10.0  # past max_seconds, the longest a recording can take to end


class TrayLike(Protocol):
    """What the controller needs of the tray (desktop.tray.Tray)."""

    def set_state(self, state: UiState) -> None:
        """Show a state."""

    def set_now_playing(self, text: str | None) -> None:
        """Show what plays."""

    def set_devices(self, devices: Sequence[DeviceEntry]) -> None:
        """Show the devices."""

    def stop(self) -> None:
        """End the tray loop."""


class PopupLike(Protocol):
    """What the controller needs of the popup (desktop.popup.PopupProcess)."""

    @property
    def attended(self) -> bool:
        """Whether the window is on screen with the keyboard focus."""

    def show(self) -> None:
        """Open the window."""

    def set_busy(self, doing: str | None = None) -> None:
        """Show that a command runs, and what it is doing when known ("Searching Spotify…")."""

    def set_listening(self) -> None:
        """Show that the microphone is open."""

    def send_level(self, level: float) -> None:
        """Show the microphone's level."""

    def send_reply(
        self,
        text: str,
        ok: bool,
        *,
        heard: str | None = None,
        options: Sequence[str] = (),
        more: Sequence[str] = (),
    ) -> bool:
        """Add a reply to the conversation; False when the window does not run."""

    def send_now_playing(self, now: NowPlaying | None, art: Path | None = None) -> None:
        """Show what plays."""

    def close(self, timeout: float = 1.0) -> None:
        """End the window's process."""


class NotifierLike(Protocol):
    """What the controller needs of notifications (desktop.notify.Notifier)."""

    def notify(
        self, title: str, body: str, *, image_url: str | None = None, error: bool = False
    ) -> None:
        """Show a notification."""

    def album_art(self, url: str) -> Path | None:
        """The album art at ``url`` as a local PNG (cached), or None."""

    def close(self) -> None:
        """Stop sending."""


class RecorderLike(Protocol):
    """What the controller needs of the microphone (voice.recorder.Recorder)."""

    ended: threading.Event
    """Set when the current recording is over, by a stop or by itself."""

    @property
    def recording(self) -> bool:
        """Whether the microphone is open."""

    def start(self, *, end_silence_s: float | None = None) -> None:
        """Open the microphone; with ``end_silence_s``, the recording ends after speech."""

    def stop(self) -> Recording:
        """Close it and return what was heard."""

    def cancel(self) -> None:
        """Close it, dropping what was heard."""


class Playing(Protocol):
    """A sound being played (voice.tts.Playback)."""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until it has been played."""


class CuesLike(Protocol):
    """Start and stop sounds (voice.cues.Cues)."""

    def play_start(self) -> Playing | None:
        """Play the start cue."""

    def play_stop(self) -> Playing | None:
        """Play the stop cue."""


class DuckerLike(Protocol):
    """Lowers and restores Spotify's volume (spotify.ducking.VolumeDucker)."""

    def duck(self) -> None:
        """Lower the volume."""

    def restore(self) -> None:
        """Put it back."""


class Controller:
    """Runs commands from the hotkey, the tray and the popup, one at a time.

    Args:
        pipeline: The one entry for every command.
        recorder: The microphone.
        speaker: Speaks replies.
        cues: Start/stop sounds.
        ducker: Lowers Spotify while recording; None leaves the volume alone.
        notifier: Desktop notifications.
        popup: The typed-command window.
        warm_up: Work that does not depend on the words, started when recording starts
            (token refresh, device list, open connections); errors are logged.
        now_playing: Reads what plays now, after each command; None when nothing does.
        devices: Reads the devices for the tray's menu.
        transfer: Moves playback to a device (the tray's Devices menu).
        busy_press: "queue" or "cancel" (see the module docstring).
        speak_replies: Whether replies are spoken.
        end_silence_s: Seconds of silence after speech that end a recording started by the
            tray's Talk item.
    """

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        recorder: RecorderLike,
        speaker: Speaker,
        cues: CuesLike,
        ducker: DuckerLike | None,
        notifier: NotifierLike,
        popup: PopupLike,
        warm_up: Callable[[], None] = lambda: None,
        now_playing: Callable[[], NowPlaying | None] = lambda: None,
        devices: Callable[[], Sequence[DeviceEntry]] = list,
        transfer: Callable[[str], None] = lambda device_id: None,
        busy_press: Literal["queue", "cancel"] = "queue",
        speak_replies: bool = True,
        end_silence_s: float = 0.8,
    ) -> None:
        self._pipeline = pipeline
        self._recorder = recorder
        self._speaker = speaker
        self._cues = cues
        self._ducker = ducker
        self._notifier = notifier
        self._popup = popup
        self._warm_up = warm_up
        self._now_playing = now_playing
        self._devices = devices
        self._transfer = transfer
        self._busy_press = busy_press
        self.speak_replies = speak_replies
        self._end_silence_s = end_silence_s
        self._tray: TrayLike | None = None
        self._audio = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segue-audio")
        self._volume = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segue-volume")
        self._warming = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segue-warm-up")
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segue-jobs")
        self._workers = (self._audio, self._volume, self._warming, self._jobs)
        self._lock = threading.Lock()
        self._generation = 0
        self._pending: list[Future[None]] = []
        self._listening = False
        self._talks = 0  # counts recordings, so a late "it ended" never stops a newer one
        self._closed = False

    def attach(self, tray: TrayLike) -> None:
        """Connect the tray (built after the controller, with its callbacks)."""
        self._tray = tray

    # --- what the hotkey, the tray and the popup call (any thread; they return at once) ---

    def start_talking(self, *, until_silence: bool = False) -> None:
        """The hotkey went down (or Talk was chosen): stop speaking and open the microphone.

        Args:
            until_silence: End the recording by itself once the person stops speaking
                (``end_silence_s`` after speech; the Talk item), not only on ``stop_talking``.
        """
        with self._lock:
            if self._closed or self._listening:
                return
            self._listening = True
            self._talks += 1
            talk = self._talks
            if self._busy_press == "cancel":
                self._cancel_pending()
        self._speaker.stop()  # barge-in: the person talks over the reply
        self._set_state(UiState.LISTENING)
        self._popup.set_listening()
        self._audio.submit(self._open_microphone, talk, until_silence)

    def stop_talking(self) -> None:
        """The hotkey went up (or Talk was chosen again): close the microphone, run the command."""
        with self._lock:
            if not self._listening:
                return
            self._listening = False
        self._audio.submit(self._close_microphone)

    def on_talk(self) -> None:
        """The tray's Talk item: start listening until the end of speech, or stop listening.

        Starting opens the popup too, where the level meter shows that the microphone hears
        the person, and the conversation what was heard and the reply.
        """
        if self._listening:
            self.stop_talking()
        else:
            self._show_popup()
            self.start_talking(until_silence=True)

    def on_type(self) -> None:
        """The tray's "Type a command..." item (or a second ``segue``): open the popup."""
        self._show_popup()

    def on_level(self, level: float) -> None:
        """The microphone's level (0..1) for the popup's meter (the recorder's worker thread)."""
        if self._listening:
            self._popup.send_level(level)

    def on_command(self, text: str) -> None:
        """A command typed into the popup."""
        self._popup.set_busy()
        self._submit(Utterance(text=text, source="popup"))

    def on_device(self, device_id: str) -> None:
        """A device chosen in the tray's Devices menu."""
        self._jobs.submit(self._guarded, lambda: self._transfer(device_id))

    def on_speak_replies(self, speak: bool) -> None:
        """The tray's "Speak replies" check."""
        self.speak_replies = speak
        if not speak:
            self._speaker.stop()

    def on_message(self, message: str) -> None:
        """A message from another ``segue`` process (single instance)."""
        if message == "popup":
            self.on_type()

    def refresh(self) -> None:
        """Read what plays and the devices for the tray, on the jobs worker."""
        self._jobs.submit(self._guarded, self._refresh_tray)

    def close(self) -> None:
        """Stop everything within about two seconds: microphone, volume, workers, windows."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._cancel_pending()
        if self._recorder.recording:
            self._recorder.cancel()
        for worker in self._workers:
            worker.shutdown(wait=False, cancel_futures=True)
        if self._ducker is not None:
            self._ducker.restore()  # after a duck still running; a queued one was cancelled
        self._speaker.stop()
        finished = threading.Event()

        def join() -> None:
            for worker in self._workers:
                worker.shutdown(wait=True)
            finished.set()

        threading.Thread(target=join, name="segue-quit", daemon=True).start()
        if not finished.wait(QUIT_SECONDS / 2):
            logger.warning("A command was still running at quit; leaving it behind")
        self._popup.close()
        self._notifier.close()

    # --- the audio worker ------------------------------------------------------------------

    def _open_microphone(self, talk: int, until_silence: bool) -> None:
        try:
            cue = self._cues.play_start()
            if cue is not None:
                cue.wait(CUE_WAIT_SECONDS)  # the cue must not be recorded with the words
            self._recorder.start(end_silence_s=self._end_silence_s if until_silence else None)
        except SegueError as err:
            with self._lock:
                self._listening = False
            self._show_error(err.user_message)
            return
        # A recording can end by itself (the end of speech, its longest length, a microphone
        # that failed): the command then runs as if the person had let go.
        threading.Thread(
            target=self._stop_when_ended, args=(talk,), name="segue-recording-end", daemon=True
        ).start()
        # Both wait on the network (seconds on a slow one): beside the recording, never in
        # front of its end, which is queued on this worker.
        if self._ducker is not None:
            self._volume.submit(self._ducker.duck)
        self._warming.submit(self._warm)

    def _stop_when_ended(self, talk: int) -> None:
        limit = getattr(self._recorder, "max_seconds", 60.0) + RECORDING_END_GRACE_SECONDS
        if not self._recorder.ended.wait(limit):
            return
        with self._lock:
            current = talk == self._talks and self._listening and not self._closed
        if current:
            logger.info("The recording ended by itself")
            self.stop_talking()

    def _warm(self) -> None:
        try:
            self._warm_up()
        except SegueError as err:
            logger.info("Warm-up failed: %s", type(err).__name__)

    def _close_microphone(self) -> None:
        try:
            if not self._recorder.recording:
                return  # the microphone never opened (its error was already shown)
            try:
                recording = self._recorder.stop()
            except SegueError as err:
                self._show_error(err.user_message)
                return
        finally:
            # After the duck (same worker, in order). The command need not wait for it: volume
            # commands act on the person's volume while ducked (spotify/ducking.py).
            if self._ducker is not None:
                self._volume.submit(self._ducker.restore)
        self._cues.play_stop()
        self._popup.set_busy()
        self._submit(Utterance(text=None, audio=recording, source="voice"))

    # --- the jobs worker ---------------------------------------------------------------------

    def _submit(self, utterance: Utterance) -> None:
        with self._lock:
            if self._closed:
                return
            generation = self._generation
            future = self._jobs.submit(self._run, utterance, generation)
            self._pending = [f for f in self._pending if not f.done()] + [future]
        if utterance.source != "voice":
            self._set_state(UiState.THINKING)

    def _run(self, utterance: Utterance, generation: int) -> None:
        # The sentences of the model's answer already being read aloud while it wrote the rest.
        early: list[str] = []

        def on_sentence(sentence: str) -> None:
            if generation != self._generation or not self.speak_replies or self._listening:
                return
            if not early:
                self._set_state(UiState.SPEAKING)
            self._speaker.say(sentence, after=bool(early))
            early.append(sentence)

        try:
            self._set_state(UiState.THINKING)
            reply = self._pipeline.handle(
                utterance,
                on_sentence=on_sentence,
                on_step=lambda tool: self._doing(tool, generation),
            )
            if generation != self._generation:
                logger.info("Dropping the reply of a cancelled command")
                return
            self._show(reply, utterance, early)
        except Exception:
            logger.exception("Command failed")
            self._show_error("Something went wrong; the details are in the log.")

    def _doing(self, tool: str, generation: int) -> None:
        """Show in the popup what the running command is doing now."""
        if generation == self._generation:
            self._popup.set_busy(step_words(tool))

    def _show(self, reply: Reply, utterance: Utterance, early: Sequence[str] = ()) -> None:
        now = self._read_now_playing()
        # The conversation shows a spoken command as what was heard; a typed one is there.
        shown = self._popup.send_reply(
            reply.text,
            reply.ok,
            heard=reply.heard if utterance.source == "voice" else None,
            options=reply.question or (),
            more=_listed(reply),
        )
        self._popup_now_playing(now)
        if not (shown and self._popup.attended):
            music = now is not None and _shows_music(reply)
            # Critical only for what needs the person now (a lost sign-in); a refusal or a song
            # not found is a normal notification.
            self._notifier.notify(
                now.text if music and now is not None else APP_TITLE,
                reply.shown_text(),
                image_url=now.image_url if music and now is not None else None,
                error=reply.urgent,
            )
        if self._tray is not None:
            self._tray.set_now_playing(now.text if now is not None else None)
        rest = UiState.IDLE if reply.ok else UiState.ERROR
        if self.speak_replies and not self._listening:
            self._set_state(UiState.SPEAKING)
            spoken = reply.spoken_text()
            said = " ".join(early)
            if early and " ".join(spoken.split()).startswith(said):
                # The reply's first sentences are being read already: the rest follows them.
                self._speaker.say(" ".join(spoken.split())[len(said) :], after=True)
            else:
                self._speaker.say(spoken)
            threading.Thread(
                target=self._after_speech, args=(rest,), name="segue-speech", daemon=True
            ).start()
        else:
            self._set_state(rest)

    def _after_speech(self, rest: UiState) -> None:
        """Show ``rest`` once the reply has been spoken (or cut short)."""
        # say() returns before the voice starts: give it a moment to begin, then wait it out.
        deadline = time.monotonic() + SPEECH_MAX_SECONDS
        started = time.monotonic()
        while time.monotonic() < deadline and not self._closed:
            speaking = self._speaker.speaking
            if not speaking and time.monotonic() - started > SPEECH_START_SECONDS:
                break
            time.sleep(SPEECH_POLL_SECONDS)
        if not self._listening:
            self._set_state(rest)

    def _read_now_playing(self) -> NowPlaying | None:
        try:
            return self._now_playing()
        except SegueError as err:
            logger.info("Could not read what plays: %s", type(err).__name__)
            return None

    def _show_popup(self) -> None:
        """Open the popup and bring its now-playing card up to date (on the jobs worker)."""
        self._popup.show()
        with self._lock:
            if self._closed:
                return
            self._jobs.submit(
                self._guarded, lambda: self._popup_now_playing(self._read_now_playing())
            )

    def _popup_now_playing(self, now: NowPlaying | None) -> None:
        art = self._notifier.album_art(now.image_url) if now and now.image_url else None
        self._popup.send_now_playing(now, art)

    def _refresh_tray(self) -> None:
        if self._tray is None:
            return
        now = self._read_now_playing()
        self._tray.set_now_playing(now.text if now is not None else None)
        try:
            self._tray.set_devices(self._devices())
        except SegueError as err:
            logger.info("Could not read the devices: %s", type(err).__name__)

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except SegueError as err:
            self._show_error(err.user_message)
        except Exception:
            logger.exception("Tray action failed")
            self._show_error("Something went wrong; the details are in the log.")

    # --- helpers ---------------------------------------------------------------------------

    def _cancel_pending(self) -> None:
        """Drop queued commands and the running one's reply (call with the lock held)."""
        self._generation += 1
        for future in self._pending:
            future.cancel()
        self._pending = []

    def _show_error(self, message: str) -> None:
        shown = self._popup.send_reply(message, False)
        if not (shown and self._popup.attended):
            self._notifier.notify(APP_TITLE, message, error=True)
        self._set_state(UiState.ERROR)

    def _set_state(self, state: UiState) -> None:
        if self._tray is not None:
            self._tray.set_state(state)


def _listed(reply: Reply) -> tuple[str, ...]:
    """The whole list behind a reply that names only a few items ("... and 8 more")."""
    lists = [call.items for call in reply.tool_calls if call.ok and call.items]
    return lists[-1] if lists else ()


def _shows_music(reply: Reply) -> bool:
    """Whether the reply is about what plays (album art belongs in its notification)."""
    return reply.ok and any(
        c.ok and c.name in ("play", "now_playing", "next_track", "previous_track", "resume")
        for c in reply.tool_calls
    )
