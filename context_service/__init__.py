"""Customer context service: resolved customer profiles served as context for AI support."""

__version__ = "0.1.0"
