"""What Fargate tasks cost: prices, Airflow's run history, and the sizes and tags in the exported specs.

``luigi-fargate cost`` reads each task instance try from Airflow (REST API or
an export file), finds its task's size, capacity and tags in the specs, and
prices it the way Fargate bills: per second, one minute at least. Every
figure is an exact Decimal until it is shown (docs/sizing-and-cost.md).
"""
