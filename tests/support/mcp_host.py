"""An MCP host for the tests: the SDK's own client over stdio against a real `segue mcp`.

The client is asynchronous; :class:`McpHost` runs it on an event loop in a thread of its own
(anyio's blocking portal), so synchronous tests can share one server process across a module.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import mcp.types as types
from anyio.from_thread import start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

SEGUE_MCP = (sys.executable, ["-m", "assistant", "mcp"])
READ_TIMEOUT_S = 30.0  # a hung server fails the test instead of hanging it


class McpHost:
    """A started ``segue mcp`` with an initialized client session.

    Args:
        env: The server's environment.
        stderr: The file the server's stderr goes to.
        command: The server command and its arguments (``python -m assistant mcp``).

    Attributes:
        initialized: The server's answer to ``initialize``.
        start_seconds: From starting the process to that answer.
        transport_errors: Whatever the client could not read as a protocol message from the
            server's stdout (must stay empty).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        stderr: Path,
        command: tuple[str, Sequence[str]] = SEGUE_MCP,
    ) -> None:
        self.stderr = stderr
        self.transport_errors: list[Exception] = []
        self._stack = ExitStack()
        try:
            portal = self._stack.enter_context(start_blocking_portal())
            errlog = self._stack.enter_context(stderr.open("w+", encoding="utf-8"))
            parameters = StdioServerParameters(
                command=command[0], args=list(command[1]), env=dict(env)
            )
            started = time.perf_counter()
            self.session: ClientSession = self._stack.enter_context(
                portal.wrap_async_context_manager(self._connect(parameters, errlog))
            )
            self.initialized = portal.call(self.session.initialize)
            self.start_seconds = time.perf_counter() - started
        except BaseException:
            self._stack.close()
            raise
        self._portal = portal

    @asynccontextmanager
    async def _connect(
        self, parameters: StdioServerParameters, errlog: Any
    ) -> AsyncIterator[ClientSession]:
        async def on_message(message: object) -> None:
            if isinstance(message, Exception):
                self.transport_errors.append(message)

        async with (
            stdio_client(parameters, errlog=errlog) as (read_stream, write_stream),
            ClientSession(
                read_stream,
                write_stream,
                read_timeout_seconds=READ_TIMEOUT_S,
                message_handler=on_message,
            ) as session,
        ):
            yield session

    def list_tools(self) -> types.ListToolsResult:
        """``tools/list``."""
        return self._portal.call(self.session.list_tools)

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> types.CallToolResult:
        """``tools/call``."""
        return self._portal.call(self.session.call_tool, name, arguments or {})

    def close(self) -> None:
        """Close stdin (the server then ends) and stop the client's loop."""
        self._stack.close()

    def __enter__(self) -> McpHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def text_of(result: types.CallToolResult) -> str:
    """The one text block of a tool result."""
    [block] = result.content
    assert isinstance(block, types.TextContent), block
    return block.text
