"""Spotify: sign-in, the typed Web API client, and finding the desktop player."""
