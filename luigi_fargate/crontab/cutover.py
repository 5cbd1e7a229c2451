"""The cron line ``migrate --cutover`` writes: the job, run through ``luigi-fargate run``.

Every value written into it (the runner's path, the lock URL, module, family,
parameter values, environment prefixes, the ``cd`` directory, redirection
targets) is shell-quoted, and the line then goes through cron's own ``%``
rule: cron cuts a command at the first ``%`` not written ``\\%`` (a ``\\\\%``
is a backslash and a cut). Quoting every literal piece around its ``%``
separately keeps a backslash from ever standing before a ``%``, so writing
each ``%`` as ``\\%`` gives cron back exactly the shell text meant. Nothing
here can add a line: values with a newline or NUL are refused.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from luigi_fargate.crontab.command import PLACEHOLDER_RE
from luigi_fargate.crontab.plan import PlannedLine
from luigi_fargate.errors import UserError

_FORBIDDEN = ("\n", "\r", "\0")


def sh_word(value: str) -> str:
    """``value`` as one sh word that survives cron's ``%`` rule once every ``%`` is written ``\\%``."""
    if value == "":
        return "''"
    return "%".join(shlex.quote(part) if part else "" for part in value.split("%"))


def cron_escape(shell_text: str) -> str:
    """Shell text as a crontab command: each ``%`` becomes ``\\%``."""
    if "\\%" in shell_text:
        raise UserError(f"can't write {shell_text[:80]!r} into a crontab: a backslash before % reads differently in cron")
    return shell_text.replace("%", "\\%")


def check_runner_command(path: str) -> str:
    if any(c in path for c in _FORBIDDEN) or not Path(path).is_absolute():
        raise UserError(f"--runner-command {path!r}: give the absolute path of luigi-fargate (cron's PATH is short)")
    return path


def check_lock_url(url: str) -> str:
    """A lock URL both runners can open: a known scheme, accepted by its backend (no connection made)."""
    from luigi_fargate.locks.base import BACKENDS, open_backend

    if any(c in url for c in _FORBIDDEN) or any(c.isspace() for c in url):
        raise UserError(f"--runner-lock {url!r}: a lock URL has no spaces or line breaks")
    scheme = urlsplit(url).scheme
    if scheme not in BACKENDS:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise UserError(f"--runner-lock {url!r}: unknown scheme {scheme!r}; use one of {known}")
    try:
        open_backend(url)
    except UserError as exc:
        raise UserError(f"--runner-lock: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - a backend's client refusing the URL (e.g. no region)
        raise UserError(f"--runner-lock {url!r}: {exc}; fix the URL (e.g. add ?region=...)") from None
    return url


def default_runner_command() -> str:
    return shutil.which("luigi-fargate") or str(Path(sys.executable).with_name("luigi-fargate"))


def _param_word(p: PlannedLine, value: str) -> str:
    """A parameter value: literal pieces quoted, ``$(date ...)`` pieces kept in double quotes."""
    inv = p.invocation
    assert inv is not None
    out = []
    for i, piece in enumerate(PLACEHOLDER_RE.split(value)):
        if i % 2 == 0:
            out.append(sh_word(piece) if piece else "")
            continue
        written = inv.substitutions[f"__LFSUB{piece}__"]
        inner = written[2:-1] if written.startswith("$(") else written[1:-1]
        if '"' in inner or "\\" in inner or "`" in inner:
            raise UserError(f"line {p.number}: can't rewrite {written!r} for the cutover line; write it as $(date +FORMAT)")
        out.append(f'"$({inner})"')
    return "".join(out) or "''"


def _literal(p: PlannedLine, value: str, what: str) -> str:
    """A value the cutover line writes as literal text; refused when the shell computed it."""
    if PLACEHOLDER_RE.search(value) or "$" in value or "`" in value:
        raise UserError(
            f"line {p.number}: {what}{value!r} is computed by the shell and --cutover would write it literally; "
            "move it into the crontab's environment lines, or migrate without --cutover"
        )
    return value


def cutover_refusal(p: PlannedLine) -> str | None:
    """Why ``migrate --cutover`` can't rewrite this line, or None (plan shows it as a warning)."""
    try:
        runner_line(p, "/luigi-fargate", None)
    except UserError as exc:
        return exc.message
    return None


def runner_line(p: PlannedLine, runner_command: str, runner_lock: str | None) -> str:
    """The crontab line that runs ``p``'s job through the runner (same schedule, directory, dates, output)."""
    inv = p.invocation
    assert inv is not None
    words = [sh_word(runner_command), "run", "--allow-any"]
    if runner_lock:
        words += ["--lock", sh_word(runner_lock)]
    words += [sh_word(inv.module), sh_word(inv.family)]
    for name, value in inv.params:
        if value is None:
            words.append(f"--{name}")
        elif value.startswith("-"):
            words.append(f"--{name}={_param_word(p, value)}")  # never read as an option
        else:
            words += [f"--{name}", _param_word(p, value)]
    env = [f"{k}={sh_word(_literal(p, v, f'environment prefix {k}='))}" for k, v in inv.env.items()]
    redirects = [op + sh_word(_literal(p, target, f"redirection {op}")) for op, target in inv.redirects]
    command = " ".join(env + words + redirects)
    if inv.cwd:
        command = f"cd {sh_word(inv.cwd)} && {command}"
    if any(c in command for c in ("\n", "\0")):
        raise UserError(f"line {p.number}: a value holds a line break; the cutover line would become two lines")
    indent = p.text[: len(p.text) - len(p.text.lstrip(" \t"))]
    return f"{indent}{p.head} {cron_escape(command)}"
