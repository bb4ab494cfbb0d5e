"""unitconv: exact, predictable unit conversions."""

__version__ = "0.1.0"
