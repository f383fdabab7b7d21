"""Lesson 09 (choosing a model)."""

__all__: list[str] = []
