"""User-facing errors: one line naming the input, what was expected, and the fix."""

from __future__ import annotations

from luigi_fargate.exit_codes import ExitCode


class UserError(Exception):
    """An error the user can act on. The CLI prints ``message`` alone (no traceback unless -v)."""

    def __init__(self, message: str, exit_code: int = ExitCode.BAD_INVOCATION) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = int(exit_code)
