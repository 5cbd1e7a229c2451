"""Run the one task through Luigi's own Worker, with the settings a one-task run needs.

Luigi's worker is what fires the task's events (START, SUCCESS, FAILURE,
PROCESSING_TIME), restarts run() after dynamic dependencies and reports to
luigid. It reads ``[worker]`` and ``[scheduler]`` from luigi.cfg, and a few of
those settings, right for a long-lived Luigi worker, would make a one-task
container hang, retry inside the container, or run tasks other than its own.
Those are overridden here (arguments win over luigi.cfg, whatever the
section or the old ``[core] worker-*`` spelling); every other setting is
Luigi's as configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from luigi_fargate.shim.completeness import is_wrapper_with_run
from luigi_fargate.shim.luigi_email import luigi_email_off

if TYPE_CHECKING:
    import luigi

#: ``[worker]`` settings overridden for a one-task run, and why.
WORKER_OVERRIDES: dict[str, Any] = {
    # Keeps polling the scheduler after a failure while anything is pending: the container never exits.
    "keep_alive": False,
    # A dependency that vanished between our check and run() makes Luigi re-add the task, which
    # schedules (and runs) that dependency here.
    "max_reschedules": 0,
    # Would make an incomplete external task runnable, to be re-checked in a loop.
    "retry_external_tasks": False,
    # A limit reached before our task leaves it unscheduled: nothing runs, and the worker says "success".
    "task_limit": None,
    # The task runs in this process, where SIGTERM and the lease watchdog reach it.
    "force_multiprocessing": False,
    # The worker's poll: the container's exit waits on it (Luigi: 1 s plus up to 5 s of jitter).
    "wait_interval": 0.1,
    "wait_jitter": 0.0,
    # SIGUSR1 is not the runner's to take, and it leaves signal handlers as it found them.
    "no_install_shutdown_handler": True,
    # Airflow's notifier alerts on a failure; Luigi's mail would be a second alert (see shim.luigi_email).
    "send_failure_email": False,
}

#: ``[scheduler]`` settings overridden for the in-process scheduler, and why.
SCHEDULER_OVERRIDES: dict[str, Any] = {
    # A failed task turns PENDING again after retry_delay: a retry inside the container. Airflow retries.
    "retry_delay": float(10**9),
}


def run_one_task(
    task: luigi.Task, assume_done: Iterable[str] = (), before_run: Callable[[], None] = lambda: None
) -> tuple[bool, list[str]]:
    """Run ``task`` in this process; (succeeded, ids of other tasks Luigi would have run too).

    ``assume_done`` are dependencies that can never be complete (no outputs)
    but count as done: Luigi's worker must not schedule them again here.
    ``before_run`` is called once the worker is about to run the task. Luigi
    sends no error e-mail meanwhile (see shim.luigi_email).
    """
    from luigi.scheduler import Scheduler
    from luigi.worker import Worker

    # The task's Luigi resources never block it here: Airflow pools limit concurrency across runs.
    resources = {name: 10**9 for name in (getattr(task, "resources", None) or {})}
    scheduler = Scheduler(resources=resources, **SCHEDULER_OVERRIDES)
    if is_wrapper_with_run(task):
        task.complete = lambda: False  # type: ignore[method-assign] # Luigi's worker would skip a complete wrapper
    try:
        with luigi_email_off(), Worker(scheduler=scheduler, worker_processes=1, **WORKER_OVERRIDES) as worker:
            _assume_complete(worker, assume_done)
            worker.add(task)
            pending = set(scheduler.task_list("PENDING", "").keys())
            extra = sorted(pending - {task.task_id})
            if extra:
                # A dependency turned incomplete after we checked it: never run it implicitly.
                return False, extra
            before_run()
            ok = worker.run()
    finally:
        task.__dict__.pop("complete", None)
    return bool(ok), []


def _assume_complete(worker: Any, task_ids: Iterable[str]) -> None:
    """Seed the worker's completion cache, the one place its completeness checks consult first.

    Luigi keeps the cache in ``Worker._task_completion_cache`` (a dict, or a
    multiprocessing proxy with ``[worker] cache_task_completion``): both the
    scheduling walk and the run-time dependency check read it.
    """
    ids = list(task_ids)
    if not ids:
        return
    if worker._task_completion_cache is None:  # noqa: SLF001 - see the docstring
        worker._task_completion_cache = {}  # noqa: SLF001
    for task_id in ids:
        worker._task_completion_cache[task_id] = True  # noqa: SLF001
