"""Bugfix specs: current, expected and unchanged behaviour, and the test that reproduces the bug.

`model` is the answer the model gives, `spec` reads the spec.md sections back, `tasks` checks
that a task list honours the spec (a regression task per unchanged requirement, a fix task
carrying the reproducing test), and `verify` shows that test failing on the base commit and
passing with the fix. The stage itself (`specify --bugfix`) is `stages/bugfix.py`.
"""
