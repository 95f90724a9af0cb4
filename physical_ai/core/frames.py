"""Coordinate frames of a mobile robot with a camera (REP 103, REP 105), as plain data (no rclpy).

    odom --(odometry, /tf)--> base_link --(mount, /tf_static)--> camera_link --> camera_optical_frame

base_link: x forward, y left, z up. camera_link: the camera body at its mount, same axes, turned
by the mount's roll, pitch and yaw (positive pitch looks down). camera_optical_frame: the same
point with z forward, x right, y down, the frame of the images; the rotation from camera_link is
the usual rpy (-pi/2, 0, -pi/2). The simulator, its URDF and the mount node all build the mount here;
`transform_msg` and `static_tf_msg` turn transforms into messages (their modules imported on use).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
import math
from typing import Any

from physical_ai.core.errors import ConfigError

Quaternion = tuple[float, float, float, float]  # x, y, z, w
Vector = tuple[float, float, float]

OPTICAL_RPY: Vector = (-math.pi / 2.0, 0.0, -math.pi / 2.0)
OPTICAL_ROTATION: Quaternion = (-0.5, 0.5, -0.5, 0.5)


@dataclass(frozen=True)
class Frames:
    """Frame names (node parameters)."""

    odom: str = 'odom'
    base: str = 'base_link'
    camera_link: str = 'camera_link'
    camera_optical: str = 'camera_optical_frame'

    def __post_init__(self) -> None:
        """Reject empty, repeated or slash-led names (tf2 frame ids carry no leading '/')."""
        names = [self.odom, self.base, self.camera_link, self.camera_optical]
        for name in names:
            if not name or name.startswith('/') or any(c.isspace() for c in name):
                raise ConfigError(f'frame name {name!r}: expected a non-empty name without spaces or a '
                                  'leading /')
        if len(set(names)) != len(names):
            raise ConfigError(f'frame names must differ, got {", ".join(names)}')


@dataclass(frozen=True)
class FixedTransform:
    """A transform that never changes: parent -> child, translation (m) and rotation."""

    parent: str
    child: str
    translation: Vector
    rotation: Quaternion
    rpy: Vector  # the same rotation as roll, pitch, yaw (URDF <origin rpy>)


def yaw_quaternion(yaw: float) -> Quaternion:
    """Return the rotation about z by `yaw` rad."""
    return (0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0))


def rpy_quaternion(roll: float, pitch: float, yaw: float) -> Quaternion:
    """Return the rotation of fixed-axis roll, pitch, yaw (rad), as URDF and tf2 define it."""
    cr, sr = math.cos(roll / 2.0), math.sin(roll / 2.0)
    cp, sp = math.cos(pitch / 2.0), math.sin(pitch / 2.0)
    cy, sy = math.cos(yaw / 2.0), math.sin(yaw / 2.0)
    return (sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy)


def mount_transforms(xyz: Sequence[float], rpy: Sequence[float],
                     frames: Frames | None = None) -> tuple[FixedTransform, FixedTransform]:
    """Return base -> camera_link (the mount at `xyz` m, turned by `rpy` rad) and camera_link -> optical."""
    frames = frames or Frames()
    values = [float(v) for v in (*xyz, *rpy)]
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise ConfigError(f'camera mount: expected [x, y, z] and [roll, pitch, yaw] of finite numbers, '
                          f'got {list(xyz)} and {list(rpy)}')
    translation: Vector = (values[0], values[1], values[2])
    angles: Vector = (values[3], values[4], values[5])
    mount = FixedTransform(frames.base, frames.camera_link, translation, rpy_quaternion(*angles), angles)
    optical = FixedTransform(frames.camera_link, frames.camera_optical, (0.0, 0.0, 0.0), OPTICAL_ROTATION,
                             OPTICAL_RPY)
    return mount, optical


def transform_msg(parent: str, child: str, time_ns: int, translation: Sequence[float],
                  rotation: Sequence[float]) -> Any:
    """Return a geometry_msgs/TransformStamped parent -> child stamped `time_ns`."""
    from geometry_msgs.msg import TransformStamped

    msg = TransformStamped()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(time_ns), 1_000_000_000)
    msg.header.frame_id = parent
    msg.child_frame_id = child
    t, r = msg.transform.translation, msg.transform.rotation
    t.x, t.y, t.z = (float(v) for v in translation)
    r.x, r.y, r.z, r.w = (float(v) for v in rotation)
    return msg


def static_tf_msg(transforms: Iterable[FixedTransform], time_ns: int = 0) -> Any:
    """Return fixed transforms (a camera mount) as one tf2_msgs/TFMessage for /tf_static."""
    from tf2_msgs.msg import TFMessage

    return TFMessage(transforms=[transform_msg(t.parent, t.child, time_ns, t.translation, t.rotation)
                                 for t in transforms])
