"""Introspection: turn a Luigi root task into a dependency graph, without running anything."""
