"""Incremental crontab migration: ``luigi-fargate crontab plan | migrate | rollback``.

parse (lines of a crontab) -> schedule (cron fields, presets, DST) ->
command (the Luigi invocation inside a shell command) -> dates (shell date
expressions as Airflow templates) -> plan (one row per line) -> migrate
(export + atomic rewrite with backup and state file, and rollback).
"""
