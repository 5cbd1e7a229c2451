"""The in-container runner: run exactly one Luigi task, keep Luigi's guarantees, exit honestly."""
