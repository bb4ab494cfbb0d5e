"""The model layer: Model protocol, litellm adapter, structured output, offline models.

Importing this package is cheap: litellm loads on the first real model call. Entry points:
`specflow.llm.registry.get_model`, `specflow.llm.structured.generate_structured`,
`specflow.llm.recorded` (Recorder, ReplayModel, ScriptedModel), `specflow.redact`.
"""

from specflow.llm.base import CallObserver, Completion, Message, Model, ToolCall, Usage

__all__ = ["CallObserver", "Completion", "Message", "Model", "ToolCall", "Usage"]
