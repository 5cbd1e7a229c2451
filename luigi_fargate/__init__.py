"""luigi-fargate: Luigi pipelines on Airflow, one right-sized Fargate container per task.

Kept import-free on purpose: ``airflow_bridge`` reads ``luigi_fargate.spec``
and ``luigi_fargate.exit_codes`` while Airflow parses DAG files, and that path
must not pull in Luigi, user code or boto3.
"""

__version__ = "0.1.0"
