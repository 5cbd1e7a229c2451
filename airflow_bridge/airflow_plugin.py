"""The Airflow plugin registering luigi-fargate's timetable (entry point ``airflow.plugins`` in setup.cfg).

Airflow 3 deserializes a timetable outside ``airflow.timetables`` only if a
plugin lists its class (serialization/decoders.py ``decode_timetable`` →
plugins_manager ``get_timetables_plugins``); plugins_manager loads
``airflow.plugins`` entry points of installed packages, so installing
``luigi-fargate[airflow]`` is all a deployment needs.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_bridge.timetables import StartGuardedCronTimetable


class LuigiFargatePlugin(AirflowPlugin):
    name = "luigi_fargate"
    timetables = [StartGuardedCronTimetable]
