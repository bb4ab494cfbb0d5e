"""Confinement for untrusted commands (agents' commands, checks, `cmd:` agents): see core.py
and docs/security.md."""

from specflow.sandbox.core import Confinement, Jail, kill_tree, resolve

__all__ = ["Confinement", "Jail", "kill_tree", "resolve"]
