"""Conversions between ROS messages and the planner's plain types (message types only, no rclpy)."""

from __future__ import annotations

import math
from typing import Any

from physical_ai.core.planning.geometry import Detection, Intrinsics


def stamp_seconds(stamp: Any) -> float:
    """Return a builtin_interfaces/Time as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def intrinsics_from_camera_info(msg: Any) -> Intrinsics:
    """Return the intrinsics of a sensor_msgs/CameraInfo (check `.problem()` before use)."""
    return Intrinsics.from_k(msg.k, msg.width, msg.height)


def detections_from_msg(msg: Any) -> tuple[list[Detection], list[str]]:
    """Return the detections of a vision_msgs/Detection2DArray and the problems of those left out.

    Each Detection2D gives one Detection: its best-scored hypothesis names the class, its `id`
    (a tracker's persistent id, '' when untracked) becomes `track_id`; one with no
    hypothesis, an empty class, or a NaN/Inf/empty box is left out and its problem reported.
    Boxes are checked against the image later, when the intrinsics are known.
    """
    out: list[Detection] = []
    problems: list[str] = []
    for index, det in enumerate(msg.detections):
        if not det.results:
            problems.append(f'detection {index}: no class hypothesis')
            continue
        best = max(det.results, key=lambda r: r.hypothesis.score
                   if math.isfinite(r.hypothesis.score) else -math.inf)
        box = det.bbox
        candidate = Detection(best.hypothesis.class_id, float(best.hypothesis.score),
                              float(box.center.position.x), float(box.center.position.y),
                              float(box.size_x), float(box.size_y), track_id=str(det.id))
        problem = candidate.problem()
        if problem is None:
            out.append(candidate)
        else:
            problems.append(f'detection {index}: {problem}')
    return out, problems
