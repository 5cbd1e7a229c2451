"""The AWS and Airflow calls the operators and triggers make: budget, retries, and what answers mean.

Bottom layer of airflow_bridge (like the provider's ``hooks``): it imports no
operator, trigger or link.
"""
