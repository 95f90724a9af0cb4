"""Actuation planning in plain Python: from 2D detections to safe velocity commands.

`Planner` (planner.py) turns detections plus camera intrinsics into a (linear, angular) command
with its state and the reason of the last stop; geometry.py estimates bearing and distance,
filter.py smooths distances, limits.py bounds speed and acceleration, safety.py holds the
detection watchdog and the e-stop latch. Nothing here imports rclpy, so the simulator demo and
the evaluation reuse exactly what the planner node runs.
"""

from physical_ai.core.planning.geometry import Detection, Intrinsics, parse_class_heights
from physical_ai.core.planning.planner import Plan, Planner, PlannerConfig, Target

__all__ = ['Detection', 'Intrinsics', 'Plan', 'Planner', 'PlannerConfig', 'Target', 'parse_class_heights']
