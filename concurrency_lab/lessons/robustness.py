"""Lesson 07 (robustness)."""

__all__: list[str] = []
