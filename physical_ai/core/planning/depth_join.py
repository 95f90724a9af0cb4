"""Joining a 3D stage's objects (detections_3d) to the 2D detections of the same frame.

Each 3D object (id, class, centre in the camera optical frame) lends its measured position to one
2D detection: the one with the same non-empty id (a tracker fills both with its track ids), or,
when ids are empty, the detection of the same class whose box contains the 3D centre projected
into the image, the nearest box centre first. Each side is used at most once; a 2D detection left
without a 3D object keeps the monocular estimate. `depth` is the horizontal range of the centre
(REP 103 level frame of a camera pitched `pitch` down), as the planner's distances are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
import math

from physical_ai.core.planning.geometry import Detection, Intrinsics, horizontal


@dataclass(frozen=True)
class Object3D:
    """One object of detections_3d: id (may be empty), class and centre (m, optical frame)."""

    id: str
    class_name: str
    position: tuple[float, float, float]

    def usable(self) -> bool:
        """Return True when the centre is finite and in front of the camera."""
        return all(math.isfinite(v) for v in self.position) and self.position[2] > 0.0


def join(detections: Sequence[tuple[str, Detection]], objects: Sequence[Object3D],
         intrinsics: Intrinsics | None, pitch: float = 0.0) -> tuple[list[Detection], int]:
    """Return the detections with `depth` and `position` set where a 3D object joins, and how many did."""
    out = [det for _, det in detections]
    free = [obj for obj in objects if obj.usable()]
    joined = 0

    def attach(index: int, obj: Object3D) -> None:
        nonlocal joined
        distance, _ = horizontal(obj.position, pitch)
        out[index] = replace(out[index], depth=distance, position=obj.position)
        free.remove(obj)
        joined += 1

    by_id = {obj.id: obj for obj in free if obj.id}
    taken = set()
    for index, (det_id, det) in enumerate(detections):
        obj = by_id.get(det_id) if det_id else None
        if obj is not None and obj in free and obj.class_name == det.class_name:
            attach(index, obj)
            taken.add(index)
    if intrinsics is None:
        return out, joined
    for obj in list(free):
        x, y, z = obj.position
        u, v = intrinsics.cx + intrinsics.fx * x / z, intrinsics.cy + intrinsics.fy * y / z
        best, best_gap = None, math.inf
        for index, (_, det) in enumerate(detections):
            if index in taken or det.class_name != obj.class_name:
                continue
            if abs(u - det.cx) <= det.width / 2.0 and abs(v - det.cy) <= det.height / 2.0:
                gap = math.hypot(u - det.cx, v - det.cy)
                if gap < best_gap:
                    best, best_gap = index, gap
        if best is not None:
            attach(best, obj)
            taken.add(best)
    return out, joined


def objects_from_msg(msg: object) -> list[Object3D]:
    """Return the objects of a vision_msgs/Detection3DArray (class = best-scored hypothesis)."""
    objects = []
    for det in msg.detections:  # type: ignore[attr-defined]
        if not det.results:
            continue
        best = max(det.results, key=lambda r: r.hypothesis.score
                   if math.isfinite(r.hypothesis.score) else -math.inf)
        p = det.bbox.center.position
        objects.append(Object3D(det.id, best.hypothesis.class_id, (float(p.x), float(p.y), float(p.z))))
    return objects
