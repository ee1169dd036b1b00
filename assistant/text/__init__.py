"""Text helpers shared by every layer: folding names, reading numbers, splitting "X by Y".

Each helper lives in exactly one module here, so the fast path, the tools, the Spotify client
and the agent compare and read words the same way.
"""
