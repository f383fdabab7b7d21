"""Lesson 06 (shared state and races)."""

__all__: list[str] = []
