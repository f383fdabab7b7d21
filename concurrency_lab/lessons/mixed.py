"""Lesson 08 (mixed workloads)."""

__all__: list[str] = []
