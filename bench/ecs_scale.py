"""N concurrent Fargate tasks through the real operator and trigger code, against moto's server, with throttling.

    .venv/bin/python bench/ecs_scale.py N [N ...] [--throttle FRACTION] [--spread S] [--seed S]

For each N, three processes, as in a deployment:

- **AWS**: moto's server on 127.0.0.1 (its own process), its WSGI app wrapped
  to count requests by ``X-Amz-Target`` and to answer ``ThrottlingException``
  to the given fraction of them (RunTask, DescribeTasks, GetLogEvents, ...).
  Requests of the bench's own controller (marked by a header) are neither
  counted nor throttled. The controller also decides how each ECS task ends,
  through moto's backend (progress frozen with the state-manager API, then
  lastStatus / stopCode / exitCode set directly).
- **workers** (this process): the DAG is built from a spec of N tasks with the
  real DAG builder; each task's ``execute`` runs (RunTask with its retries) and
  defers; later each is resumed with its trigger's event, as Airflow resumes a
  deferred task, by a pool of 16 threads (16 worker slots).
- **triggerer** (its own process): every trigger, rebuilt from its serialized
  kwargs, runs in one asyncio loop, each in its own task with the trigger id
  bound to the log context, as Airflow's TriggerRunner runs them.

Every ECS task runs from the moment the triggerer starts for a random time in
``[30 s, 30 s + spread]`` (``--spread`` default N/6 s, so tasks stop at about
6/s at scale), writing a log line a minute meanwhile, and ends with one of: exit 0
(70 %), exit 5, exit 4, exit 137 with OutOfMemoryError, a Spot interruption
(exit 0), a failure to start (5-10 % each). The last line of output is one
JSON object with, per N: DescribeTasks and GetLogEvents calls per second while
tasks ran (all callers), RunTask calls, false failures (Airflow verdicts that
differ from the ECS task's true outcome), orphans (ECS tasks still running
after every Airflow task ended) and the triggerer's CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ACCOUNT, REGION, CLUSTER = "123456789012", "us-east-1", "bench"
TASK_DEFINITION, CONTAINER, LOG_GROUP, LOG_PREFIX = "bench-pipelines", "luigi", "/ecs/bench", "luigi"
CONN_ID = "aws_bench"
CONTROLLER_HEADER = "X-Bench-Controller"
WORKER_SLOTS = 16
RUN_ID = "scheduled__2026-11-01T00:00:00+00:00"
#: Marks the triggerer's events on its stdout (the triggers' own log lines go there too).
EVENT_MARK = "@@event "

#: (weight, how the ECS task ends, whether that is a success)
OUTCOMES: list[tuple[int, dict[str, Any], bool]] = [
    (70, {"exit_code": 0}, True),
    (8, {"exit_code": 5}, False),
    (6, {"exit_code": 4}, False),
    (6, {"exit_code": 137, "container_reason": "OutOfMemoryError: Container killed due to memory usage"}, False),
    (5, {"exit_code": 0, "stop_code": "SpotInterruption", "reason": "Your Spot Task was interrupted."}, False),
    (5, {"exit_code": None, "stop_code": "TaskFailedToStart", "reason": "CannotPullContainerError: pull image manifest has been retried"}, False),
]


# --- the AWS side: moto's server with a counting, throttling wrapper -------------------------


class CountingThrottlingApp:
    """moto's WSGI app, one request at a time, counting requests by X-Amz-Target and throttling some."""

    def __init__(self, app: Any, throttle: float, seed: int) -> None:
        self.app, self.throttle, self.rng = app, throttle, random.Random(seed)
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            return self._control(path, environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
        controller = environ.get("HTTP_" + CONTROLLER_HEADER.upper().replace("-", "_"))
        with self.lock:
            if target and not controller:
                self.calls[target] += 1
                if self.rng.random() < self.throttle:
                    self.throttled[target] += 1
                    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
                    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))])
                    return [body]
            return list(self.app(environ, start_response))

    def _control(self, path: str, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        with self.lock:
            if path == "/_bench/counts":
                answer: Any = {"calls": dict(self.calls), "throttled": dict(self.throttled)}
            elif path == "/_bench/stop":
                for item in body["tasks"]:
                    stop_in_backend(**item)
                answer = {"stopped": len(body["tasks"])}
            elif path == "/_bench/not-stopped":
                answer = {"arns": [a for a, t in ecs_backend().tasks.get(CLUSTER, {}).items() if t.last_status != "STOPPED"]}
            else:
                answer = {"error": f"unknown {path}"}
        data = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def ecs_backend() -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][REGION]


def stop_in_backend(arn: str, exit_code: int | None = 0, stop_code: str = "EssentialContainerExited",
                    reason: str = "Essential container in task exited", container_reason: str | None = None) -> None:
    """Mark a task STOPPED the way Fargate reports it."""
    task = ecs_backend().tasks[CLUSTER][arn]
    task.last_status = task.desired_status = "STOPPED"
    task.stop_code, task.stopped_reason = stop_code, reason
    container = task.containers[0]
    container.last_status = "STOPPED"
    container.exitCode = container.exit_code = exit_code
    if container_reason:
        container.reason = container_reason


def serve(port_file: str, throttle: float, seed: int) -> None:
    """Run moto's server with the wrapper until killed; write its port to ``port_file``."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    server._server.app = CountingThrottlingApp(server._server.app, throttle, seed)  # noqa: SLF001 - the wrapper is the point
    Path(port_file).write_text(str(server.get_host_and_port()[1]))
    threading.Event().wait()


# --- the controller: sets up AWS, plays Fargate ---------------------------------------------


class Controller:
    """The bench's own AWS calls (marked, so neither counted nor throttled) and moto's controls."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION)
        self.logs = boto3.client("logs", endpoint_url=endpoint, region_name=REGION)
        self.ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION)
        for client in (self.ecs, self.logs, self.ec2):
            client.meta.events.register("before-send", self._mark)

    @staticmethod
    def _mark(request: Any, **_: Any) -> None:
        request.headers[CONTROLLER_HEADER] = "1"

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.endpoint + path, data=data, method="POST", headers={CONTROLLER_HEADER: "1"})
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - 127.0.0.1
            return json.loads(response.read() or b"{}")

    def set_up(self) -> tuple[str, str]:
        self.post("/moto-api/state-manager/set-transition", {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}})
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/17")["Subnet"]["SubnetId"]
        group = self.ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
        self.ecs.create_cluster(clusterName=CLUSTER)
        self.ecs.register_task_definition(
            family=TASK_DEFINITION, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
            containerDefinitions=[{"name": CONTAINER, "image": "bench:1", "memory": 512, "essential": True}],
        )  # fmt: skip
        self.logs.create_log_group(logGroupName=LOG_GROUP)
        return subnet, group

    def write_logs(self, arn: str, lines: list[str], first: bool) -> None:
        stream = f"{LOG_PREFIX}/{CONTAINER}/{arn.rsplit('/', 1)[-1]}"
        if first:
            self.logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        now = int(time.time() * 1000)
        self.logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                 logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)])  # fmt: skip

    def counts(self) -> dict[str, Any]:
        return self.post("/_bench/counts")


@dataclass
class PlannedTask:
    arn: str
    stops_at: float
    outcome: dict[str, Any]
    succeeds: bool
    next_log_at: float
    logged: int = 0


def play_fargate(controller: Controller, plans: list[PlannedTask], started: float, done: threading.Event) -> None:
    """Each ECS task writes a log line every ~60 s while it runs, then its last lines, and ends as planned."""
    pending = sorted(plans, key=lambda p: p.stops_at)
    by_log = list(plans)
    while pending and not done.is_set():
        now = time.monotonic() - started
        due = [p for p in pending if p.stops_at <= now]
        for plan in due:
            controller.write_logs(plan.arn, [f"step {plan.logged + 1}", "finishing"], first=plan.logged == 0)
            plan.logged += 1
        if due:
            controller.post("/_bench/stop", {"tasks": [{"arn": p.arn, **p.outcome} for p in due]})
            pending = pending[len(due):]
        for plan in by_log:
            if plan.next_log_at <= now < plan.stops_at:
                controller.write_logs(plan.arn, [f"step {plan.logged + 1}"], first=plan.logged == 0)
                plan.logged += 1
                plan.next_log_at = now + 60
        time.sleep(0.5)


# --- the workers: the real operators ------------------------------------------------------------


class BenchTI:
    """The task-instance fields the operator reads, and its XCom pushes."""

    def __init__(self, dag_id: str, task_id: str) -> None:
        self.dag_id, self.task_id, self.run_id, self.map_index, self.try_number = dag_id, task_id, RUN_ID, -1, 1
        self.stats_tags: dict[str, str] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        pass


class DictStateStore(dict):
    def set(self, key: str, value: Any, **_: Any) -> None:
        self[key] = value


def write_spec(path: Path, n: int, subnet: str, group: str, poll_seconds: float, budgets: dict[str, float]) -> Path:
    import dataclasses

    from luigi_fargate.fargate.settings import FargateSettings
    from luigi_fargate.spec import PipelineSpec, TaskNode, TaskParam

    settings = FargateSettings(
        cluster=CLUSTER, region=REGION, task_definition=TASK_DEFINITION, container_name=CONTAINER, subnets=[subnet],
        security_groups=[group], log_group=LOG_GROUP, log_stream_prefix=LOG_PREFIX, aws_conn_id=CONN_ID,
        poll_seconds=int(poll_seconds), **budgets,
    )  # fmt: skip
    runner = dataclasses.replace(settings.runner(), poll_seconds=poll_seconds, start_backoff_seconds=0.5)
    tasks = [TaskNode(id=f"job_{i}", task_id=f"Job_{i}", module="bench.jobs", family="Job", params=[TaskParam("n", str(i))]) for i in range(n)]
    spec = PipelineSpec(dag_id="ecs_scale", root="job_0", tasks=tasks, runner=runner, start_date="2026-11-01")
    path.write_text(spec.to_json())
    return path


@contextmanager
def shared_clients() -> Iterator[None]:
    """One boto3 client per service for all simulated workers (a real worker runs one task per process)."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    from airflow_bridge.hooks import clients

    cache: dict[tuple[str, bool], Any] = {}
    lock = threading.Lock()
    original = AwsGenericHook.get_client_type
    made = {name: getattr(clients, name) for name in ("ecs_client", "logs_client")}

    def shared(self: Any, region_name: str | None = None, config: Any = None, deferrable: bool = False) -> Any:
        key = (self.client_type, bool(config))
        with lock:
            if key not in cache:
                cache[key] = original(self, region_name=region_name, config=config, deferrable=deferrable)
            return cache[key]

    AwsGenericHook.get_client_type = shared  # type: ignore[method-assign]
    for name, make in made.items():
        setattr(clients, name, _cached(make, lock))
    try:
        yield
    finally:
        AwsGenericHook.get_client_type = original  # type: ignore[method-assign]
        for name, make in made.items():
            setattr(clients, name, make)


def _cached(make: Any, lock: threading.Lock) -> Any:
    cache: dict[tuple[Any, ...], Any] = {}

    def get(*args: Any, **kwargs: Any) -> Any:
        key = (*args, *sorted(kwargs.items()))
        with lock:
            if key not in cache:
                cache[key] = make(*args, **kwargs)
            return cache[key]

    return get


def start_all(dag: Any) -> tuple[dict[str, tuple[Any, dict[str, Any]]], dict[str, Any]]:
    """Every task's execute(): RunTask, then TaskDeferred. Returns operators with contexts, and triggers."""
    import pendulum
    from airflow.sdk.exceptions import TaskDeferred

    def start(task_id: str) -> tuple[str, Any, dict[str, Any], Any]:
        op = dag.get_task(task_id)
        ti = BenchTI(dag.dag_id, task_id)
        context = {"ti": ti, "task_instance": ti, "run_id": RUN_ID, "ds": "2026-11-01", "dag": dag, "task": op,
                   "logical_date": pendulum.datetime(2026, 11, 1), "task_state_store": DictStateStore()}  # fmt: skip
        op.render_template_fields(context)
        try:
            op.execute(context)
        except TaskDeferred as deferred:
            return task_id, op, context, deferred
        raise RuntimeError(f"{task_id} did not defer")

    with ThreadPoolExecutor(WORKER_SLOTS) as pool:
        results = list(pool.map(start, [t.task_id for t in dag.tasks]))
    return {t: (op, ctx) for t, op, ctx, _ in results}, {t: d for t, _, _, d in results}


def resume(op: Any, context: dict[str, Any], method: str, payload: dict[str, Any]) -> str:
    """Resume a deferred operator with its event, as Airflow does; "success" or the failure's first line."""
    try:
        op.resume_execution(method, {"event": payload}, context)
    except Exception as exc:  # noqa: BLE001 - the verdict is what we measure
        return f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return "success"


# --- the triggerer: every trigger in one asyncio loop -----------------------------------------


async def run_triggers(triggers: dict[str, tuple[str, dict[str, Any]]], out: Any) -> None:
    """Run each trigger in its own asyncio task with its id bound to the log context (as TriggerRunner does)."""
    from airflow.sdk._shared.module_loading import import_string
    from structlog.contextvars import bind_contextvars

    async def one(trigger_id: str, classpath: str, kwargs: dict[str, Any]) -> None:
        bind_contextvars(trigger_id=trigger_id)
        trigger = import_string(classpath)(**kwargs)
        events = trigger.run()
        try:
            event = await events.__anext__()
        finally:
            await events.aclose()
        out.write(EVENT_MARK + json.dumps({"trigger_id": trigger_id, "payload": event.payload}) + "\n")
        out.flush()

    await asyncio.gather(*(one(t, c, k) for t, (c, k) in triggers.items()))


def triggerer_main(path: str) -> None:
    import logging
    import resource

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    triggers = {t: (c, k) for t, (c, k) in json.loads(Path(path).read_text()).items()}
    # imports and set-up are not the triggerer's steady-state cost
    from airflow_bridge.triggers.ecs import EcsTaskStoppedTrigger  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    print(EVENT_MARK + json.dumps({"started": len(triggers)}), flush=True)
    asyncio.run(run_triggers(triggers, sys.stdout))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(EVENT_MARK + json.dumps({"triggerer_cpu_s": round(cpu, 2), "triggerer_wall_s": round(time.monotonic() - started, 1)}), flush=True)


# --- one size -----------------------------------------------------------------------------------


@dataclass
class Bench:
    n: int
    throttle: float = 0.0
    seed: int = 1
    spread: float | None = None
    min_duration: float = 30.0
    poll_seconds: float = 6.0
    budgets: dict[str, float] = field(default_factory=dict)
    quiet: bool = False

    def say(self, message: str) -> None:
        if not self.quiet:
            print(f"[N={self.n}] {message}", file=sys.stderr, flush=True)


def _start_server(tmp: Path, throttle: float, seed: int) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp / "port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), "--throttle", str(throttle), "--seed", str(seed)])
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("moto's server did not start")
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port_file.read_text()}"


def _environment(endpoint: str) -> dict[str, str]:
    extra = {"endpoint_url": endpoint, "region_name": REGION}
    conn = json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra})
    return {f"AIRFLOW_CONN_{CONN_ID.upper()}": conn, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION}  # fmt: skip


def run_one(bench: Bench) -> dict[str, Any]:
    import structlog

    environment, logging_config = dict(os.environ), structlog.get_config()
    with tempfile.TemporaryDirectory(prefix="ecs-scale-") as tmp_dir:
        tmp = Path(tmp_dir)
        server, endpoint = _start_server(tmp, bench.throttle, bench.seed)
        try:
            return _measure(bench, tmp, endpoint)
        finally:
            server.kill()
            server.wait()
            os.environ.clear()
            os.environ.update(environment)
            structlog.configure(**logging_config)


def _plan(arns: list[str], bench: Bench) -> list[PlannedTask]:
    rng = random.Random(bench.seed)
    spread = bench.spread if bench.spread is not None else max(60.0, bench.n / 6)
    weights = [w for w, _, _ in OUTCOMES]
    plans = []
    for arn in arns:
        _, outcome, succeeds = rng.choices(OUTCOMES, weights)[0]
        plans.append(PlannedTask(arn, bench.min_duration + rng.uniform(0, spread), outcome, succeeds, rng.uniform(0, 60)))
    return plans


def _quiet_workers() -> None:
    """The simulated workers log at WARNING and up (N tasks' INFO lines would be most of the bench's time)."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)


def _measure(bench: Bench, tmp: Path, endpoint: str) -> dict[str, Any]:
    os.environ.update(_environment(endpoint))
    _quiet_workers()
    from airflow_bridge.dag_builder import build_dag

    controller = Controller(endpoint)
    subnet, group = controller.set_up()
    dag = build_dag(write_spec(tmp / "ecs_scale.json", bench.n, subnet, group, bench.poll_seconds, bench.budgets))
    with shared_clients():
        return _run_workers_and_triggerer(bench, tmp, controller, dag)


def _run_workers_and_triggerer(bench: Bench, tmp: Path, controller: Controller, dag: Any) -> dict[str, Any]:
    t0 = time.monotonic()
    operators, deferred = start_all(dag)
    bench.say(f"started {bench.n} ECS tasks in {time.monotonic() - t0:.0f} s")
    arn_of = {t: d.trigger.task_arn for t, d in deferred.items()}
    plans = {p.arn: p for p in _plan(list(arn_of.values()), bench)}
    (tmp / "triggers.json").write_text(json.dumps({t: d.trigger.serialize() for t, d in deferred.items()}))

    triggerer_log = (tmp / "triggerer.log").open("w")
    triggerer = subprocess.Popen(
        [sys.executable, __file__, "--triggerer", str(tmp / "triggers.json")], stdout=subprocess.PIPE, stderr=triggerer_log,
        text=True, env={**os.environ},
    )  # fmt: skip
    assert triggerer.stdout is not None
    for line in triggerer.stdout:  # imported and ready: the clock starts
        if line.startswith(EVENT_MARK):
            break
    before = controller.counts()
    started = time.monotonic()
    done = threading.Event()
    fargate = threading.Thread(target=play_fargate, args=(controller, list(plans.values()), started, done), daemon=True)
    fargate.start()
    try:
        verdicts, stats = _resume_as_events_come(bench, triggerer, operators, deferred)
    finally:
        if triggerer.poll() is None:
            triggerer.kill()
    waited = time.monotonic() - started
    after = controller.counts()
    done.set()  # Fargate stops nothing more: what still runs now outlived its Airflow task
    fargate.join()
    not_stopped = set(controller.post("/_bench/not-stopped")["arns"])

    def calls(target: str, counts: dict[str, Any]) -> int:
        return counts["calls"].get(target, 0)

    false_failures = sum((verdicts[t] == "success") != plans[arn].succeeds for t, arn in arn_of.items())
    return {
        "n": bench.n,
        "throttle": bench.throttle,
        "wait_s": round(waited, 1),
        "describe_tasks_per_s": round((calls("DescribeTasks", after) - calls("DescribeTasks", before)) / waited, 3),
        "get_log_events_per_s": round((calls("GetLogEvents", after) - calls("GetLogEvents", before)) / waited, 3),
        "run_task_calls": calls("RunTask", after),
        "throttled_calls": sum(after["throttled"].values()),
        "false_failures": false_failures,
        "orphans": len(not_stopped & set(arn_of.values())),
        "events_with_incomplete_log": stats["incomplete_logs"],
        **stats["triggerer"],
    }


def _resume_as_events_come(bench: Bench, triggerer: subprocess.Popen[str], operators: dict[str, Any], deferred: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    verdicts: dict[str, str] = {}
    stats: dict[str, Any] = {"incomplete_logs": 0, "triggerer": {}}
    futures = {}
    assert triggerer.stdout is not None
    with ThreadPoolExecutor(WORKER_SLOTS) as workers:
        for line in triggerer.stdout:
            if not line.startswith(EVENT_MARK):
                continue  # a trigger's log line
            record = json.loads(line[len(EVENT_MARK):])
            if "trigger_id" not in record:
                stats["triggerer"] = record
                continue
            task_id, payload = record["trigger_id"], record["payload"]
            stats["incomplete_logs"] += not (payload.get("log") or {}).get("complete", True)
            op, context = operators[task_id]
            futures[task_id] = workers.submit(resume, op, context, deferred[task_id].method_name, payload)
            if len(futures) % max(1, bench.n // 10) == 0:
                bench.say(f"{len(futures)} of {bench.n} triggers fired")
        for task_id, future in futures.items():
            verdicts[task_id] = future.result()
    triggerer.wait()
    missing = set(operators) - set(verdicts)
    if missing:
        raise RuntimeError(f"{len(missing)} triggers never fired (triggerer exit {triggerer.returncode})")
    return verdicts, stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, metavar="N")
    parser.add_argument("--throttle", type=float, default=0.0, help="fraction of AWS calls answered with ThrottlingException")
    parser.add_argument("--spread", type=float, help="ECS tasks end within 30 s + SPREAD s of each other (default N/6, at least 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--triggerer", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.throttle, args.seed)
    if args.triggerer:
        return triggerer_main(args.triggerer)
    if not args.sizes:
        parser.error("give at least one N")
    results = {}
    for n in args.sizes:
        started = time.monotonic()
        results[str(n)] = run_one(Bench(n, args.throttle, args.seed, args.spread))
        results[str(n)]["bench_wall_s"] = round(time.monotonic() - started, 1)
        print(json.dumps(results[str(n)]), file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
