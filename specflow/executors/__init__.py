"""Executors that run the implement engine's agents somewhere else (see engine/executor.py)."""
