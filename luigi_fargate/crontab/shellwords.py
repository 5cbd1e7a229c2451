"""POSIX sh words of a cron command, in linear time.

:mod:`shlex` reads one character at a time in Python (about a second per
200 KB), and a crontab line can be megabytes long. The grammar needed here
is small (words, quotes, backslashes, operators, comments), so one compiled
regular expression finds the tokens and only words that hold quotes or
backslashes are unquoted. Command substitutions (``$( )`` and backticks)
are located the same way, so that :mod:`luigi_fargate.crontab.command` can
set them aside before splitting.
"""

from __future__ import annotations

import re

#: Characters that end an unquoted word in sh (besides blanks).
_OPERATOR_CHARS = "();<>|&"

_TOKEN = re.compile(
    r"""
    (?P<op>(?<![^ \t\n();<>|&])\d+[<>][<>&|]*   # a redirection with its file descriptor: 2>&  1>>
      | [();<>|&]+)                             # operators: && ; | >> >&
  | (?P<comment>(?<![^ \t\n();<>|&])\#[\s\S]*) # a comment: '#' at the start of a word, to the end
  | (?P<word>(?:[^ \t\n'"\\();<>|&]+ | '[^']*' | "(?:[^"\\]|\\[\s\S])*" | \\[\s\S] | \\\Z)+)
                                              # a word (sh keeps a last lone \)
  | (?P<open>['"])                            # a quote that never closes
    """,
    re.VERBOSE,
)
#: Text without any of these is split on blanks alone.
_SPECIAL = re.compile(r"""['"\\#();<>|&]""")
_BLANKS = re.compile(r"[ \t\n]+")
_QUOTED_PART = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\[\s\S])*)"|\\([\s\S])""")
_DOUBLE_QUOTE_ESCAPE = re.compile(r'\\([$`"\\\n])')
class Operator(str):
    """An unquoted operator token (``&&``, ``|``, ``2>&``): a quoted ``'|'`` is a plain word."""

    __slots__ = ()


class ShellSyntaxError(ValueError):
    """Text sh would reject (an unclosed quote, an unbalanced substitution)."""


def _unquote_part(m: re.Match[str]) -> str:
    if m[1] is not None:
        return m[1]
    if m[2] is not None:
        return _DOUBLE_QUOTE_ESCAPE.sub(r"\1", m[2])
    return "" if m[3] == "\n" else m[3]


def unquote(word: str) -> str:
    """The word's value after sh removes quotes and backslashes (no expansions)."""
    if "\\" not in word:
        if "'" not in word and '"' not in word:
            return word
        return _QUOTED_PART.sub(r"\1\2", word)  # no escapes: just drop the quotes (in C)
    return _QUOTED_PART.sub(_unquote_part, word)


def words(text: str) -> list[str]:
    """sh's tokens of ``text``: unquoted words and operator strings; comments dropped.

    Only space, tab and newline separate words, as in sh. A redirection keeps
    its file descriptor (``2>&``) so that ``2>&1`` is not mistaken for a word
    ``2``. Raises :class:`ShellSyntaxError`.
    """
    if not _SPECIAL.search(text):
        return [w for w in _BLANKS.split(text) if w]
    out: list[str] = []
    for op, comment, word, open_quote in _TOKEN.findall(text):
        if comment:
            break
        if open_quote:
            raise ShellSyntaxError("No closing quotation")
        out.append(Operator(op) if op else unquote(word))
    return out


_SUBSTITUTION_SCAN = re.compile(r"""'[^']*'?|\\[\s\S]|"|\$\(\(|\$\(|`|[^'\\"$`]+|\$""")
_PARENS = re.compile(r"[()]")


def find_substitutions(command: str) -> list[tuple[int, int, str]]:
    """(start, end, inner command) of each ``$( )`` and backtick outside single quotes.

    ``$((`` (arithmetic) is not a command substitution. Linear in the
    length of ``command``. Raises :class:`ShellSyntaxError` when one never closes.
    """
    if "$(" not in command and "`" not in command:
        return []
    out: list[tuple[int, int, str]] = []
    in_double = False
    pos = 0
    while pos < len(command):
        m = _SUBSTITUTION_SCAN.match(command, pos)
        assert m is not None  # every character is matched by some branch
        token, pos = m[0], m.end()
        if token[0] == "'" and not in_double:
            continue  # single-quoted text: nothing inside is special
        if token == '"':
            in_double = not in_double
        elif token == "$(":
            end = _closing_paren(command, pos)
            out.append((m.start(), end, command[pos : end - 1]))
            pos = end
        elif token == "`":
            end = command.find("`", pos)
            if end < 0:
                raise ShellSyntaxError(f"unbalanced backtick in {command[m.start():][:80]!r}")
            out.append((m.start(), end + 1, command[pos:end]))
            pos = end + 1
        elif token[0] == "'":  # an apostrophe inside double quotes is just a character
            pos = m.start() + 1
    return out


def _closing_paren(command: str, pos: int) -> int:
    depth = 1
    for p in _PARENS.finditer(command, pos):
        depth += 1 if p[0] == "(" else -1
        if depth == 0:
            return p.end()
    raise ShellSyntaxError(f"unbalanced $( in {command[pos - 2 :][:80]!r}")
