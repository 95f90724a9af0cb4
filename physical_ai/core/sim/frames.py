"""The simulated robot's frames (REP 105): odom -> base_link on /tf, the camera mount on /tf_static.

    odom --(odometry, /tf)--> base_link --(mount)--> camera_link --(optical)--> camera_optical_frame

base_link lies on the floor under the wheel axle, x forward, z up (REP 103). camera_link is the
camera body at the mount (`CameraSpec.mount_x`, `mount_z`), pitched down by `CameraSpec.pitch`;
camera_optical_frame is the same point with z forward, x right, y down, the frame of the images.
The rotation from camera_link to the optical frame is the usual rpy (-pi/2, 0, -pi/2). Plain
Python: the node and the URDF (description.py) both take the mount from here.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from physical_ai.core.sim.camera import CameraSpec

Quaternion = tuple[float, float, float, float]  # x, y, z, w
Vector = tuple[float, float, float]

# camera_link (x forward, y left, z up) -> optical frame (z forward, x right, y down).
OPTICAL_RPY: Vector = (-math.pi / 2.0, 0.0, -math.pi / 2.0)
OPTICAL_ROTATION: Quaternion = (-0.5, 0.5, -0.5, 0.5)


@dataclass(frozen=True)
class Frames:
    """Frame names (parameters of the simulator node)."""

    odom: str = 'odom'
    base: str = 'base_link'
    camera_link: str = 'camera_link'
    camera_optical: str = 'camera_optical_frame'


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


def camera_mount(camera: CameraSpec, frames: Frames = Frames()) -> tuple[FixedTransform, FixedTransform]:
    """Return base -> camera_link (the mount) and camera_link -> optical frame of a camera."""
    half = camera.pitch / 2.0
    mount = FixedTransform(frames.base, frames.camera_link, (camera.mount_x, 0.0, camera.mount_z),
                           (0.0, math.sin(half), 0.0, math.cos(half)), (0.0, camera.pitch, 0.0))
    optical = FixedTransform(frames.camera_link, frames.camera_optical, (0.0, 0.0, 0.0), OPTICAL_ROTATION,
                             OPTICAL_RPY)
    return mount, optical
