"""Lesson 04 (native code releases the GIL)."""

__all__: list[str] = []
