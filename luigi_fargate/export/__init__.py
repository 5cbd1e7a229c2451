"""Export: a Luigi graph becomes a pipeline spec plus a tiny DAG file for Airflow."""
