"""Tools for LLM agents: ``get_customer_context``, ``find_customer``, ``create_escalation``.

One set of argument Structs (``schemas``) feeds the OpenAI function definitions (``formats``),
the MCP server and ``POST /v1/tools/call``; ``service`` is where they all fetch context.
"""

from context_service.tools.formats import openai_tools
from context_service.tools.schemas import TOOLS, CustomerRef, ToolSpec, tool_named
from context_service.tools.service import (
    InvalidToolArguments,
    ToolBox,
    UnknownTool,
    find_stored,
)

__all__ = [
    "TOOLS",
    "CustomerRef",
    "InvalidToolArguments",
    "ToolBox",
    "ToolSpec",
    "UnknownTool",
    "find_stored",
    "openai_tools",
    "tool_named",
]
