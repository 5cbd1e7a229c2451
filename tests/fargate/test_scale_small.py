"""bench/ecs_scale.py at a small size, as a correctness test: 50 concurrent tasks, 10 % of AWS calls
throttled, every Airflow verdict the ECS task's true outcome, no ECS task outliving its Airflow task.
(The rates it measures are the bench's business; bench/README.md has them at scale.)"""

from __future__ import annotations

from bench.ecs_scale import Bench, run_one


def test_fifty_tasks_with_a_tenth_of_the_calls_throttled() -> None:
    result = run_one(Bench(
        50, throttle=0.1, seed=7, spread=20, min_duration=4, poll_seconds=1, quiet=True,
        budgets={"describe_tasks_per_second": 4.0, "get_log_events_per_second": 20.0},
    ))  # fmt: skip
    assert result["throttled_calls"] > 10  # the bad day did happen
    assert result["false_failures"] == 0
    assert result["orphans"] == 0
