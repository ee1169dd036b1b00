"""Voice: recording from the microphone, speech to text, spoken replies and cues.

- ``audio``: ``Recording`` (16 kHz mono int16 PCM, kept in memory), ``encode`` (FLAC or Ogg/Opus for
  upload) and ``SpeechDetector`` (webrtcvad: is there speech in a recording, and how much).
- ``recorder``: ``Recorder`` over a sounddevice input stream: hold-to-talk (``start``/``stop``) and
  hands-free (``record_hands_free``: stops by itself once the speaker falls silent). sounddevice is
  imported only when a recording starts, so the rest of Segue runs without PortAudio.
- ``stt``: speech to text, OpenAI or a local Whisper model.
- ``tts`` and ``cues``: spoken replies and the short start/stop sounds.
"""
