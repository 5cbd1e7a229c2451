"""``python -m luigi_fargate ...`` is the same as the ``luigi-fargate`` command."""

from luigi_fargate.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
