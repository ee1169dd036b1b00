"""The errors Segue raises, each carrying one sentence a user can act on.

Third-party exceptions are converted where they enter (``raise X(...) from err``); everything
above that layer deals only with these::

    SegueError                      .user_message, .retryable, .urgent
    ├── ConfigError                 a bad or unknown setting (names the key and the file)
    ├── SecretStoreUnavailable      no usable OS keyring (none, damaged, or not writable)
    ├── RequestTooLarge             more than Segue does in one request (songs, characters)
    ├── AuthError
    │   ├── NotSignedIn             no Spotify refresh token stored
    │   ├── SignInExpired           invalid_grant: expired (6 months) or revoked
    │   └── SignInFailed            the browser flow failed: denied, wrong state, timed out
    ├── SpotifyError
    │   ├── PremiumRequired         the user (or the app's owner) has no Premium
    │   ├── NotAllowListed          the user is not on the development-mode app's user list
    │   ├── EndpointGone            the endpoint is closed to new development-mode apps
    │   ├── NoDevice                no Spotify player to act on
    │   ├── LocalAppUnavailable     this computer's Spotify app did not answer (local control)
    │   ├── RateLimited             429; .retry_after in seconds
    │   ├── SpotifyUnavailable      5xx, timeouts, connection failures
    │   ├── NotFound                nothing matched (the model can try another query)
    │   ├── AmbiguousMatch          several things match equally well; .candidates
    │   ├── NearMiss                only something close matched: "Did you mean ...?"
    │   └── SpotifyRequestRejected  Spotify refused the request as malformed (400)
    ├── ModelError                  the language model (OpenAI or a compatible server) failed
    │   ├── ModelUnavailable        timeouts, connection failures, 5xx, empty answers
    │   ├── ModelRateLimited        429: too many requests, or no credit left
    │   ├── ModelKeyRefused         401: the API key was refused
    │   └── ModelRequestRejected    400/403/404: the server refused the request (unknown model)
    └── VoiceError
        ├── MicrophoneUnavailable   no input device, or it is busy or vanished
        └── SpeechNotUnderstood     nothing was heard, or nothing could be made of it

``NotFound``, ``AmbiguousMatch``, ``NearMiss`` and ``SpotifyRequestRejected`` are "the caller can
correct this" errors: the agent hands them back to the model as tool output (or, for the last two
kinds, asks the person). The others reach the user.
``ModelError`` subclasses end the command: what was done before them is said first.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.waits import wait_text


class SegueError(Exception):
    """Base of every error Segue raises on purpose.

    Attributes:
        user_message: One sentence for a notification, the popup or stderr.
        retryable: Whether trying the same thing again later can help.
        model_can_fix: Whether the agent should hand the error back to the model (nothing found,
            ambiguous, malformed) instead of ending the command with it.
        urgent: Whether the person must act before Segue can work again (a lost sign-in, no
            keyring, no microphone, a refused key): shown as a critical notification. Everything
            else, a refusal or a song not found included, is a normal one.
    """

    default_message = "Something went wrong."
    retryable = False
    model_can_fix = False
    urgent = False

    def __init__(self, user_message: str | None = None, *, retryable: bool | None = None) -> None:
        self.user_message = user_message or self.default_message
        if retryable is not None:
            self.retryable = retryable
        super().__init__(self.user_message)


class ConfigError(SegueError):
    """A setting in the config file or the environment is unknown or has a bad value."""

    urgent = True

    default_message = "A setting is invalid."


class SecretStoreUnavailable(SegueError):
    """The OS keyring cannot be used."""

    urgent = True

    default_message = (
        "No system keyring is available to keep the Spotify sign-in; install and unlock one "
        "(GNOME Keyring or KWallet on Linux) or set PYTHON_KEYRING_BACKEND."
    )


class RequestTooLarge(SegueError):
    """A command asks for more than Segue does at once: too many songs, too long a name.

    The limits are the tools' own (the registry's caps); the person hears the limit and can ask
    again for less. Nothing of the request was done.
    """

    default_message = "That is more than Segue does in one request; ask for less."


class AuthError(SegueError):
    """Signing in to Spotify failed or is needed."""

    urgent = True


class NotSignedIn(AuthError):
    """No Spotify sign-in is stored."""

    default_message = "Segue is not signed in to Spotify; run `segue login` or choose Sign in."


class SignInExpired(AuthError):
    """Spotify answered invalid_grant: the sign-in expired or was revoked."""

    default_message = "Spotify sign-in expired; choose Sign in from the tray menu."


class SignInFailed(AuthError):
    """The browser sign-in flow did not complete."""

    default_message = "Spotify sign-in did not complete."


class SpotifyError(SegueError):
    """Spotify refused or failed a request."""

    default_message = "Spotify could not do that."


class PremiumRequired(SpotifyError):
    """The player needs Premium (the user's, or the app owner's in development mode)."""

    urgent = True

    default_message = "Controlling playback needs Spotify Premium."


class NotAllowListed(SpotifyError):
    """The user is not on the development-mode app's list of users."""

    urgent = True

    default_message = (
        "This Spotify account is not on your app's user list; add it under User Management "
        "in the Spotify developer dashboard."
    )


class EndpointGone(SpotifyError):
    """Spotify has closed this endpoint to new development-mode apps."""

    default_message = "Spotify no longer offers that to personal apps."


class NoDevice(SpotifyError):
    """There is no Spotify player to act on."""

    default_message = (
        "No Spotify player is available; open the Spotify app on this computer and try again."
    )
    retryable = True


class LocalAppUnavailable(SpotifyError):
    """This computer's Spotify app is not running, or did not answer a local command.

    Raised by the local interfaces (MPRIS, AppleScript, the Windows media session); the one
    place that routes player commands (``assistant.spotify.control``) then uses the Web API.
    """

    default_message = "The Spotify app on this computer is not answering."
    retryable = True


class RateLimited(SpotifyError):
    """Spotify asked us to slow down.

    Attributes:
        retry_after: Seconds Spotify asked us to wait, or None when it said to stop (quota).
    """

    retryable = True

    def __init__(self, retry_after: float | None, user_message: str | None = None) -> None:
        self.retry_after = retry_after
        if user_message is None:
            if retry_after is None:
                user_message = "Spotify's request quota for this app is used up; try again later."
            else:
                user_message = (
                    f"Spotify asked Segue to slow down; try again in {wait_text(retry_after)}."
                )
        super().__init__(user_message, retryable=retry_after is not None)


class SpotifyUnavailable(SpotifyError):
    """Spotify could not be reached or failed on its side."""

    default_message = "Spotify is not answering right now; try again in a moment."
    retryable = True


class NotFound(SpotifyError):
    """Nothing matched what was asked for."""

    default_message = "Nothing on Spotify matched that."
    model_can_fix = True


class AmbiguousMatch(SpotifyError):
    """Several things match equally well; the caller has to choose.

    Attributes:
        what: What was being looked for ("playlist", "device", "track").
        candidates: The names that tie, best first.
        argument: The tool argument the choice fills in, when a tool raised it; the agent asks
            the person and runs the same call again with the chosen name in that argument.
    """

    model_can_fix = True

    def __init__(
        self, what: str, candidates: Sequence[str], *, argument: str | None = None
    ) -> None:
        self.what = what
        self.candidates = tuple(candidates)
        self.argument = argument
        names = ", ".join(f"“{c}”" for c in self.candidates)
        super().__init__(f"More than one {what} matches: {names}. Which one?")


class NearMiss(SpotifyError):
    """Only something close to the words matched: Segue asks before acting on it.

    Attributes:
        spoken: The close match as the person hears it ("“Hello” by Adele").
        argument: The tool argument that named it.
        value: What to put in that argument to act on the close match (its Spotify URI).
        clear: Other arguments to drop then (an ``artist`` filter the URI already answers).
    """

    model_can_fix = True

    def __init__(
        self, spoken: str, *, argument: str, value: str, clear: Sequence[str] = ()
    ) -> None:
        self.spoken = spoken
        self.argument = argument
        self.value = value
        self.clear = tuple(clear)
        super().__init__(f"Did you mean {spoken}?")


class SpotifyRequestRejected(SpotifyError):
    """Spotify refused a request as malformed (HTTP 400)."""

    default_message = "Spotify refused that request."
    model_can_fix = True


class VoiceError(SegueError):
    """Recording or recognising speech failed."""


class MicrophoneUnavailable(VoiceError):
    """The microphone cannot be opened or stopped delivering audio."""

    urgent = True

    default_message = (
        "No microphone is available; connect one or choose another input device in the settings."
    )


class SpeechNotUnderstood(VoiceError):
    """The recording held no speech, or the recogniser made nothing of it."""

    default_message = "I didn't hear anything."


class ModelError(SegueError):
    """The language model (OpenAI or an OpenAI-compatible server) failed."""

    default_message = "The language model could not answer."


class ModelUnavailable(ModelError):
    """The model timed out, could not be reached, failed on its side or sent no answer."""

    default_message = "OpenAI is not answering right now; try again in a moment."
    retryable = True


class ModelRateLimited(ModelError):
    """The model's server answered 429: too many requests, or the account has no credit."""

    default_message = "OpenAI asked Segue to slow down; try again in a minute."
    retryable = True


class ModelKeyRefused(ModelError):
    """The model's server refused the API key (401)."""

    urgent = True

    default_message = (
        "OpenAI refused the API key; set a valid one with `segue setup` or OPENAI_API_KEY."
    )


class ModelRequestRejected(ModelError):
    """The model's server refused the request: an unknown model, a parameter it does not take."""

    default_message = "OpenAI refused Segue's request."
