"""The MCP server: the tools of ``context_service.tools`` over stdio and streamable HTTP."""

from context_service.mcp_server.server import build_mcp_server, mcp_tool, tool_error_text

__all__ = ["build_mcp_server", "mcp_tool", "tool_error_text"]
