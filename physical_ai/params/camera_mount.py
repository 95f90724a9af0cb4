"""Parameters of the camera mount node (plain data; see physical_ai.params.ParamSpec).

For robots without a URDF: the profile declares where the camera sits on the base, the node
publishes it on /tf_static. All read-only: a static transform is published once.
"""

from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec('mount_xyz', [0.0, 0.0, 0.3],
              'Camera position [x, y, z] (m) in base_frame (x forward, y left, z up); measure it on the '
              'robot.',
              read_only=True),
    ParamSpec('mount_rpy', [0.0, 0.0, 0.0],
              'Camera orientation [roll, pitch, yaw] (rad) in base_frame; positive pitch looks down.',
              read_only=True),
    ParamSpec('base_frame', 'base_link', 'Parent frame of the mount (REP 105 base frame).', read_only=True),
    ParamSpec('camera_link_frame', 'camera_link', 'Camera body frame (x forward, z up) at the mount.',
              read_only=True),
    ParamSpec('camera_frame', 'camera_optical_frame',
              "Optical frame (z forward, x right, y down): the camera node's frame_id.", read_only=True),
)
