"""The agent: understands a command and turns it into Spotify actions."""
