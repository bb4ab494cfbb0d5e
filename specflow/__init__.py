"""specflow: spec-driven development with parallel coding agents."""

__version__ = "0.1.0"
