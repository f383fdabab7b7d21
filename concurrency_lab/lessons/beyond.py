"""Lesson 10 (beyond one machine and beyond the GIL)."""

__all__: list[str] = []
