"""The one decision per crontab line, shared by ``crontab plan`` and ``crontab migrate``.

:func:`decide_line` takes a line the static plan would migrate and runs the
checks that need the job's code, in memory: the export through
:func:`luigi_fargate.export.api.plan_export` (which imports the job's module,
builds its Luigi graph from ``requires()``, never calling ``complete()`` or
``run()``), then the derived-parameter check, then (when a DAGs folder is
given) the no-clobbering check. Plan shows its verdict; migrate writes
exactly the export it made. So a line plan calls "migrate" migrates, and a
line it refuses is refused by migrate with the same reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luigi_fargate.crontab.cutover import cutover_refusal
from luigi_fargate.crontab.plan import PlannedLine, PlanOptions, Status, plan_crontab, schedule_of
from luigi_fargate.crontab.schedule import cron_fire_times
from luigi_fargate.crontab.state import file_sha256, owned_files
from luigi_fargate.errors import UserError
from luigi_fargate.spec import DagDefaults, RunnerKind, environment

if TYPE_CHECKING:
    from luigi_fargate.export.api import ExportPlan
    from luigi_fargate.export.builder import ExportOptions
    from luigi_fargate.spec import PipelineSpec, TaskNode

#: Default of ``crontab plan|migrate --verify-fires``.
VERIFY_FIRES = 40


@dataclass
class ExportSettings:
    """What migrate's command line adds to an export (plan uses the defaults but ``verify_fires``)."""

    runner: str = "local"
    runner_lock: str | None = None
    start_date: str | None = None  # default: the migration day in the job's zone
    now: dt.datetime | None = None
    #: Fire times, the first included, that `verify` checks (a daily job's month and more: its ends, the 1st).
    verify_fires: int = VERIFY_FIRES


@dataclass
class DagFolder:
    """The DAGs folder migrate writes into, and which of its files this crontab's state wrote."""

    path: Path
    state: dict[str, Any] = field(default_factory=dict)

    def files_for(self, dag_id: str) -> tuple[Path, Path]:
        return self.path / f"{dag_id}.json", self.path / f"{dag_id}.py"


@dataclass
class Decided:
    """A line migrate will move, with the export it will write."""

    line: PlannedLine
    export: ExportPlan


def decide_crontab(
    text: str, options: PlanOptions, settings: ExportSettings, folder: DagFolder | None = None,
    only: Callable[[PlannedLine], bool] | None = None,
) -> tuple[list[PlannedLine], dict[int, Decided]]:
    """The plan of every line, with the code checks run on the lines ``only`` picks (default: all)."""
    planned = plan_crontab(text, options)
    decided: dict[int, Decided] = {}
    for p in planned:
        if p.status == Status.MIGRATE and (only is None or only(p)):
            export = decide_line(p, settings, folder)
            if export is not None:
                decided[p.number] = Decided(p, export)
    return planned, decided


def decide_line(p: PlannedLine, settings: ExportSettings, folder: DagFolder | None) -> ExportPlan | None:
    """Run the code checks on a statically migratable line: its export, or None with ``p`` refused.

    The checks, in order: the export itself (module, family, parameters, a
    graph that runs in a container); derived parameters (upstream values that
    change between two run dates while the DAG would keep them fixed); for a
    DAG with a run-date binding, ``verify`` of the DAG against Luigi's graph
    at the next ``settings.verify_fires`` fire times (a task Luigi adds only
    on the 1st of a month, say); clobbering comes last because it is about
    the DAGs folder, not the job.
    """
    assert p.status == Status.MIGRATE and p.first_fire is not None
    try:
        export = export_line(p, settings, p.first_fire)
        why = _derived_parameters(p, settings, export) or _verify_fires(p, export, settings.verify_fires)
    except UserError as exc:
        why = exc.message
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the job's own code failing while its graph is built
        why = f"building its Luigi graph raised {type(exc).__name__}: {exc}; fix the task (rerun export with -v for the traceback)"
    if why is None and folder is not None:
        why = _clobbering(p, folder)
    if why is not None:
        p.refuse(why)
        return None
    p.warnings += [str(f) for f in export.findings]
    cutover = cutover_refusal(p)
    if cutover:
        p.warnings.append(f"--cutover can't keep this line in cron: {cutover}")
    return export


# --- the export, in memory ------------------------------------------------


def _bindings_and_templates(p: PlannedLine) -> tuple[dict[str, str], dict[str, str]]:
    """Bindings for Luigi date and interval parameters (upstream dates follow), raw templates for the rest.

    A parameter given one whole ``date`` call binds as export's ``--bind``
    would (``ds``, ``ds_local-1d``, ``ds@Asia/Tokyo``: the zone ``date`` ran
    in, intervals and ISO weeks included) when Luigi reads what ``date``
    prints; otherwise, and for string parameters, its template reproduces the text.
    One parameter binds (the first); the others keep templates, and the
    derived-parameter check refuses the line if anything upstream follows them.
    """
    from luigi_fargate.introspect.bindings import BindingRefused, binding_for, is_bindable
    from luigi_fargate.introspect.loader import import_module, task_class

    import_module(p.module or "")
    params = dict(task_class(p.family or "", p.module or "").get_params())
    bindings: dict[str, str] = {}
    templates: dict[str, str] = {}
    for name, template in p.param_templates.items():
        if name not in params:
            raise UserError(f"{p.family} has no parameter {name!r}; fix the crontab line")
        expr = p.date_expressions.get(name)
        if expr is not None and is_bindable(params[name]) and not bindings:  # a DAG's run has one date
            try:
                bindings[name] = binding_for(params[name], expr, p.timezone or "UTC")
                continue
            except BindingRefused:
                pass
        p.day_bindings.pop(name, None)
        templates[name] = template
    return bindings, templates


def export_options(p: PlannedLine, settings: ExportSettings) -> ExportOptions:
    from luigi_fargate.export.builder import ExportOptions

    bindings, templates = _bindings_and_templates(p)
    # cron's `timeout 2h` bounds the whole job: Airflow's dagrun_timeout bounds the whole run.
    defaults = DagDefaults(email=list(p.emails), dagrun_timeout_seconds=p.timeout_seconds or None)
    env = dict(p.env)
    if settings.runner_lock:  # the DAG's runner takes the same lock as the cron line
        env[environment.LOCK] = settings.runner_lock
    now = settings.now or dt.datetime.now(dt.UTC)
    start = settings.start_date or now.astimezone(zoneinfo.ZoneInfo(p.timezone or "UTC")).date().isoformat()
    return ExportOptions(
        dag_id=p.dag_id, schedule=p.cron, timezone=p.timezone or "UTC", bindings=bindings, runner=RunnerKind(settings.runner),
        cwd=p.cwd, start_date=start, catchup=False, defaults=defaults, tags=["crontab"], env=env, root_templates=templates,
    )  # fmt: skip


def export_line(p: PlannedLine, settings: ExportSettings, fire: dt.datetime) -> ExportPlan:
    """The job's export for the run cron would have started at ``fire`` (nothing written)."""
    from luigi_fargate.export.api import plan_export

    return plan_export(p.module or "", p.family or "", p.sample_args(fire), export_options(p, settings))


# --- derived parameters -----------------------------------------------------


def _second_fire(p: PlannedLine) -> dt.datetime | None:
    """A later fire at which every templated parameter has another value than at the first fire."""
    assert p.first_fire is not None and p.invocation is not None
    first = dict(zip(p.sample_args(p.first_fire)[::2], p.sample_args(p.first_fire)[1::2], strict=False))
    templated = [f"--{name}" for name, value in p.invocation.params if value and "__LFSUB" in value]
    best: tuple[int, dt.datetime] | None = None
    for gap in (dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=32),
                dt.timedelta(days=367)):  # fmt: skip
        start = p.first_fire + gap
        fire = next(cron_fire_times(schedule_of(p), p.timezone or "UTC", start, start + dt.timedelta(days=800)), None)
        if fire is None:
            continue
        values = dict(zip(p.sample_args(fire)[::2], p.sample_args(fire)[1::2], strict=False))
        differing = sum(values.get(n) != first.get(n) for n in templated)
        if differing == len(templated):
            return fire
        if best is None or differing > best[0]:
            best = (differing, fire)
    return best[1] if best else None


def _derived_parameters(p: PlannedLine, settings: ExportSettings, first: ExportPlan) -> str | None:
    """Why the DAG would keep fixed something that changes with the run date, or None.

    The DAG is built from one export; only the root's templated parameters and
    what export's date rules learned follow the run. Exporting a second run
    (another fire date, so every templated value differs) and comparing the
    two graphs task by task shows any upstream value derived from a templated
    parameter, whatever the derivation (a copy, ``'results/{}/x'.format(...)``, a hash).
    """
    if not p.param_templates:
        return None
    fire = _second_fire(p)
    if fire is None:
        return None
    second = export_line(p, settings, fire)
    difference = graph_difference(first.spec, second.spec)
    if difference is None:
        return None
    assert p.first_fire is not None and p.timezone
    zone = zoneinfo.ZoneInfo(p.timezone)
    when = f"the runs of {p.first_fire.astimezone(zone):%Y-%m-%d %H:%M} and {fire.astimezone(zone):%Y-%m-%d %H:%M}"
    unbound = [n for n in p.param_templates if n not in p.day_bindings]
    names = ", ".join(f"--{n.replace('_', '-')}" for n in unbound)
    if p.day_bindings and any(n in p.date_expressions for n in unbound):
        fix = (f"a run follows one date parameter (--{next(iter(p.day_bindings)).replace('_', '-')}, the first); "
               f"derive {names} from it in the task, or keep the job in cron")  # fmt: skip
    else:
        fix = (f"make {names} a luigi.DateParameter given as $(date +\\%F) (what derives from it then follows "
               "the run date), or keep the job in cron")  # fmt: skip
    return f"{difference} between {when}, but the DAG would keep the first value (runs from the second on stop with exit 8); {fix}"


def _run_values(task: TaskNode) -> dict[str, str]:
    """What the DAG passes each parameter: its run-date template, else its fixed value."""
    return {p.name: p.template if p.template is not None else p.value for p in task.params}


def _shape(spec: PipelineSpec) -> dict[str, tuple[Any, ...]]:
    return {t.id: (t.family, tuple(_run_values(t).items()), tuple(t.upstream), t.kind) for t in spec.tasks}


def graph_difference(first: PipelineSpec, second: PipelineSpec) -> str | None:
    """How the second run's tasks differ from what the first run's DAG would run, or None."""
    a, b = _shape(first), _shape(second)
    if a == b:
        return None
    tasks_a = {t.id: t for t in first.tasks}
    tasks_b = {t.id: t for t in second.tasks}
    pairs = [(tasks_a[i], tasks_b[i]) for i in a if i in b and a[i] != b[i]]
    only_b = [tasks_b[j] for j in b if j not in a]
    for i in (i for i in a if i not in b):
        twin = next((t for t in only_b if t.family == tasks_a[i].family), None)
        if twin is not None:
            pairs.append((tasks_a[i], twin))
    for ta, tb in pairs:
        va, vb = _run_values(ta), _run_values(tb)
        changed = [k for k in va if va.get(k) != vb.get(k)]
        if changed:
            k = changed[0]
            return f"upstream task {ta.family} takes {k}={va[k]!r}, then {k}={vb.get(k)!r}"
    if pairs:
        return f"task {pairs[0][0].family} ({pairs[0][0].id}) gets other arguments or dependencies"
    return f"the graph has {len(a)} tasks for the first run and {len(b)} for the second"


# --- verify over the next fires -------------------------------------------------


def _verify_fires(p: PlannedLine, export: ExportPlan, count: int) -> str | None:
    """Why the DAG would not run Luigi's graph at one of the next ``count`` fires, or None.

    Only a DAG whose root follows a run-date binding can be verified per run
    (templated strings are what the derived-parameter check is for).
    """
    from luigi_fargate.introspect.verify import verify_dates

    spec = export.spec
    if count <= 0 or spec.graph is None or spec.graph.run_date is None:
        return None
    assert p.first_fire is not None
    fires = list(itertools.islice(cron_fire_times(schedule_of(p), p.timezone or "UTC", p.first_fire,
                                                  p.first_fire + dt.timedelta(days=3660)), count))  # fmt: skip
    differences = verify_dates(spec, fires)
    if not differences:
        return None
    first = differences[0]
    return (
        f"verify: the run of {first.line()} (Luigi's graph for that date is not the DAG's; "
        f"{len(differences)} of the next {len(fires)} runs differ); make the task's requires() the same "
        f"shape every run, or keep the job in cron (`luigi-fargate verify` shows every run)"
    )


# --- clobbering -------------------------------------------------------------


def _clobbering(p: PlannedLine, folder: DagFolder) -> str | None:
    """Why writing this line's DAG files would overwrite files this job's migration didn't write."""
    owned = owned_files(folder.state) if folder.state else {}
    for path in folder.files_for(p.dag_id or ""):
        current = file_sha256(path)
        if current is None:
            continue
        mine = owned.get(str(path))
        if mine is None:
            return (
                f"DAG id {p.dag_id!r}: {path} already exists and no migrate of this crontab wrote it (another "
                "crontab or an export); choose other ids with --dag-id-prefix PREFIX, or remove that DAG first"
            )
        if mine.sha256 != current:
            return (
                f"DAG id {p.dag_id!r}: {path} was changed since migrate wrote it; move your version away "
                "(or roll back) before migrating this line again"
            )
        if mine.line_after != p.text:
            return (
                f"DAG id {p.dag_id!r}: {path} belongs to another line migrated earlier; choose other ids "
                "with --dag-id-prefix PREFIX"
            )
    return None
