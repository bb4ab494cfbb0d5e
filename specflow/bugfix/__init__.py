"""Bugfix specs: current, expected and unchanged behaviour, and the test that reproduces the bug.

`model` is the answer the model gives, `spec` renders and reads the spec.md sections, `stage`
is `specify --bugfix`, `tasks` checks that a task list honours the spec (a regression task per
unchanged requirement, a fix task carrying the reproducing test), and `verify` shows that test
failing on the base commit and passing with the fix.
"""
