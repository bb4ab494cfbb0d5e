"""`--max-cost` for single model calls: a Model that refuses to spend past a limit."""

from __future__ import annotations

from typing import Any

from specflow.errors import BudgetExceeded


def money(x: float) -> str:
    return f"${x:.4f}" if x < 1 else f"${x:.2f}"


class BudgetedModel:
    """A Model that refuses to spend past `limit`: before the first call when the stage's last
    recorded cost already exceeds it, and before each further call (a repair round) when
    what it spent plus its last call's cost would."""

    def __init__(self, inner: Any, limit: float, *, stage: str, previous: float | None) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.limit = limit
        self.stage = stage
        self.previous = previous
        self.spent = 0.0
        self.last = 0.0

    def _refuse(self, why: str) -> None:
        raise BudgetExceeded(
            f"{self.stage}: --max-cost {money(self.limit)} would be exceeded: {why}",
            "raise --max-cost, or use a cheaper model with --model",
        )

    def complete(self, messages: Any, *, purpose: str, **kw: Any) -> Any:
        if self.spent == 0.0 and self.previous is not None and self.previous > self.limit:
            self._refuse(f"its last generation cost {money(self.previous)}")
        if self.spent and self.spent + self.last > self.limit:
            self._refuse(f"spent {money(self.spent)}, another call costs about {money(self.last)}")
        completion = self.inner.complete(messages, purpose=purpose, **kw)
        self.last = float(completion.usage.cost_usd or 0.0)
        self.spent += self.last
        return completion
