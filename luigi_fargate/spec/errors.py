"""The one error a spec reader raises."""

from __future__ import annotations


class SpecError(ValueError):
    """A spec file that can't be used; the message names the file and the fix."""
