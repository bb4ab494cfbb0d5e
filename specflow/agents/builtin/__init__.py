"""The `builtin` agent: a tool-using loop on any litellm model, confined to its worktree."""

from specflow.agents.builtin.loop import BuiltinAgent, ModelFactory, default_model_factory
from specflow.agents.builtin.sandbox import PathRefused, Sandbox, ToolError
from specflow.agents.builtin.tools import TOOLS, Toolbox, ToolResult

__all__ = [
    "TOOLS",
    "BuiltinAgent",
    "ModelFactory",
    "PathRefused",
    "Sandbox",
    "ToolError",
    "ToolResult",
    "Toolbox",
    "default_model_factory",
]
