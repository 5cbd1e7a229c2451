"""Right-sizing from measured runs: the runner's usage events in, the smallest Fargate size that fits out.

``luigi-fargate sizes suggest`` reads usage events (files, or CloudWatch Logs),
groups them per Luigi family (and per parameter value where a parameter
splits the family's memory use), and proposes sizes with headroom
(docs/sizing-and-cost.md).
"""
