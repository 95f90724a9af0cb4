"""The simulated camera's mount in the frames of physical_ai.core.frames (REP 105).

base_link lies on the floor under the wheel axle; camera_link sits at the MJCF camera's position
(`CameraSpec.mount_x`, `mount_z`), pitched down by `CameraSpec.pitch`, so the optical frame is
exactly the frame the simulator renders and reports ground truth in.
"""

from __future__ import annotations

from physical_ai.core.frames import FixedTransform, Frames, mount_transforms
from physical_ai.core.sim.camera import CameraSpec


def camera_mount(camera: CameraSpec, frames: Frames | None = None) -> tuple[FixedTransform, FixedTransform]:
    """Return base -> camera_link and camera_link -> optical frame of the simulated camera."""
    return mount_transforms((camera.mount_x, 0.0, camera.mount_z), (0.0, camera.pitch, 0.0), frames)
