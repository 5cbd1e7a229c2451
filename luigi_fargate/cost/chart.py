"""A chart of cost per team per day (PNG or SVG, by the file's suffix), drawn with matplotlib.

matplotlib is the optional extra ``luigi-fargate[report]``, imported only
here: a task image never needs it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from luigi_fargate.cost.pricing import exact_dollars
from luigi_fargate.errors import UserError

FORMATS = {".png": "png", ".svg": "svg"}


def chart_format(path: str) -> str:
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise UserError(f"--chart {path}: expected a .png or .svg file name")
    return kind


def check_chart_target(path: str) -> str:
    """The chart's format, once its file can be written there: checked before any work, so no report is printed for nothing."""
    import os

    from luigi_fargate.atomic_file import _what_it_is

    kind = chart_format(path)
    folder = Path(path).parent
    if not folder.is_dir():
        raise UserError(f"--chart {path}: no folder {folder}; create it or pass another path")
    if not os.access(folder, os.W_OK):
        raise UserError(f"--chart {path}: can't write in {folder}; pass a path you may write")
    try:
        what = _what_it_is(os.lstat(path).st_mode)
    except FileNotFoundError:
        return kind
    except OSError as exc:
        raise UserError(f"--chart {path}: can't check it ({exc.strerror}); pass another path") from None
    if what is not None:
        raise UserError(f"--chart {path}: it is {what}, not a regular file; remove it or pass another path")
    return kind


def write_team_day_chart(path: str, team_days: dict[tuple[str, dt.date], Decimal], title: str) -> None:
    """Stacked bars: one bar per day, one colour per team, in dollars."""
    target = Path(path)
    kind = chart_format(path)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--chart needs matplotlib: pip install 'luigi-fargate[report]'") from None
    days = sorted({day for _, day in team_days})
    teams = sorted({team for team, _ in team_days})
    figure, axes = plt.subplots(figsize=(max(6.0, 0.5 * len(days) + 3), 4))
    bottom = [0.0] * len(days)
    for team in teams:
        values = [float(exact_dollars(team_days.get((team, day), Decimal(0)))) for day in days]
        axes.bar([d.isoformat() for d in days], values, bottom=bottom, label=team)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("US dollars")
    axes.set_title(title)
    axes.legend(title="team", fontsize="small")
    axes.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    import io

    from luigi_fargate.atomic_file import write_atomically

    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind)
    plt.close(figure)
    try:
        write_atomically(target, buffer.getvalue())
    except OSError as exc:
        raise UserError(f"--chart {path}: can't write it ({exc.strerror}); pass a path you may write") from None
