"""Lesson 05 (communication costs)."""

__all__: list[str] = []
