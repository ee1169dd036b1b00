"""The fast path's old name: commands are understood by :mod:`assistant.agent.grammar` now.

Kept so callers of ``intents.parse`` (the Agent) and of the number tables keep working.
"""

from __future__ import annotations

from assistant.agent.grammar import parse
from assistant.text.numbers import ORDINALS, number_value

__all__ = ["ORDINALS", "number_value", "parse"]
