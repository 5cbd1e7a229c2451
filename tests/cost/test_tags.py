"""``cost`` groups by the tags the operator puts on each ECS task: the same keys and values, so the bill can be checked."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_bridge.operators.fargate_spec import cost_tags
from luigi_fargate.spec import DagDefaults, FargateRunner, PipelineSpec, TaskNode, TaskSettings
from luigi_fargate.spec.tags import static_cost_tags

#: Tag text ECS accepts (validators.is_tag_text): letters, digits, spaces and _ . : / = + - @
TAG_TEXT = st.text(alphabet="abcXYZ019 _.:/=+-@", min_size=1, max_size=12).map(str.strip).filter(bool)
KEYS = TAG_TEXT.filter(lambda k: not k.lower().startswith("aws:") and k not in ("owner", "dag_id", "luigi_family"))
PER_RUN = ("airflow_run_id", "airflow_task_id", "airflow_try_number")


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(KEYS, TAG_TEXT, max_size=4),
    st.dictionaries(KEYS, TAG_TEXT, max_size=4),
    st.one_of(st.none(), st.sampled_from(["ledger@example.com", "Ledger Team <ledger@example.com>", "data team"])),
    st.one_of(st.none(), st.just("dag-owner@example.com")),
)
def test_static_tags_are_the_operators_tags_without_the_per_run_ones(runner_tags, node_tags, owner, dag_owner):
    runner = FargateRunner("c", "eu-west-1", "td", "luigi", ["subnet-12345678"], ["sg-12345678"], tags=runner_tags)
    node = TaskNode("convert", "ConvertToEur_x", "pipeline", "ConvertToEur", settings=TaskSettings(owner=owner, tags=node_tags))
    spec = PipelineSpec(dag_id="ledger", root="convert", tasks=[node], runner=runner, defaults=DagDefaults(owner=dag_owner))
    operator = cost_tags(spec, runner, node)
    assert {k: v for k, v in operator.items() if k not in PER_RUN} == static_cost_tags(spec, runner, dataclasses.replace(node))
