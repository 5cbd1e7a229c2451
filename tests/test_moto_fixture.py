"""The shared moto fixture really serves AWS APIs over HTTP on 127.0.0.1."""

import boto3


def test_moto_server_serves_ecs_over_loopback(moto_reset):
    assert moto_reset.startswith("http://127.0.0.1:")
    ecs = boto3.client("ecs", endpoint_url=moto_reset, region_name="us-east-1")
    ecs.create_cluster(clusterName="c1")
    assert [c["clusterName"] for c in ecs.describe_clusters(clusters=["c1"])["clusters"]] == ["c1"]
