"""Pick a Model by name: a replay recording or litellm."""

from __future__ import annotations

from pathlib import Path

from specflow.config import LLMSection
from specflow.llm.base import CallObserver, Model

REPLAY_PREFIX = "replay:"


def get_model(name: str, settings: LLMSection, observer: CallObserver | None = None) -> Model:
    """`replay:PATH` answers from a recording (offline); anything else goes to litellm.

    Nothing heavy is imported here: litellm loads on the first call of a LiteLLMModel.
    """
    if name.startswith(REPLAY_PREFIX):
        from specflow.llm.recorded import ReplayModel

        path = name[len(REPLAY_PREFIX) :]
        if not Path(path).is_file():
            from specflow.errors import ModelConfigError

            raise ModelConfigError(
                f"replay model: no recording at {path}", "pass replay:PATH to a .jsonl recording"
            )
        # Artifacts record the model name: keep machine-specific paths out of them.
        return ReplayModel(path, name=f"{REPLAY_PREFIX}{Path(path).name}", observer=observer)
    from specflow.llm.litellm_model import LiteLLMModel

    return LiteLLMModel(name, settings, observer)
