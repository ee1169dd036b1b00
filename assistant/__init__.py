"""Segue: a voice-driven tray assistant for Spotify."""

__version__ = "0.1.0"
