"""The desktop shell: what a person sees all day when they run ``segue`` with no arguments.

- ``state``: ``UiState``, the one value the tray icon shows (idle, listening, thinking, speaking,
  error).
- ``icons``: the tray pictures, drawn with Pillow natively at each size a system asks for.
- ``tray``: the pystray icon and its menu (Talk, Type a command..., Now playing, Devices, Speak
  replies, Open settings file, Sign in/out, Quit). It owns the main thread; other threads update
  it through methods that hand the change to the tray's own loop.
- ``hotkey``: the global push-to-talk hotkey, hold or toggle: pynput, or under Wayland
  ``portal_hotkey`` (the desktop's GlobalShortcuts portal over D-Bus).
- ``popup``: the typed-command window, a small Tk program run as its own process and spoken to
  over JSON lines on its stdin/stdout.
- ``notify``: desktop notifications (D-Bus on Linux, a fallback hook elsewhere) with album art
  downloaded once and cached.
- ``instance``: one Segue per user; a second start hands its request ("popup") to the first.

Callbacks from these pieces only signal the controller (``assistant.app``) and return; the
controller's single worker thread does the work.
"""
