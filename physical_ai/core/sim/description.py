"""URDF of the simulated robot (`robot_description`), built from the same numbers as its MJCF body.

The simulator node publishes it on `robot_description` (transient local, as robot_state_publisher
does) for rviz's RobotModel; its fixed joints are exactly the /tf_static mount of frames.py, so a
robot_state_publisher fed this URDF publishes the same tree. Wheels are visuals of base_link:
the simulator publishes no joint states, so the tree has no moving joint but odom -> base_link.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from physical_ai.core.frames import FixedTransform, Frames
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.frames import camera_mount
from physical_ai.core.sim.world import ROBOT_RADIUS, WHEEL_RADIUS, WHEEL_SEPARATION

ROBOT_NAME = 'physical_ai_sim'
MATERIALS = {'body': '0.85 0.85 0.88 1', 'deck': '0.2 0.2 0.22 1', 'dark': '0.1 0.1 0.1 1',
             'grey': '0.3 0.3 0.3 1'}


def _f(*values: float) -> str:
    return ' '.join(f'{v:.6g}' for v in values)


def _visual(geometry: str, xyz: tuple[float, float, float], material: str, rpy: str = '0 0 0') -> str:
    return (f'    <visual><origin xyz="{_f(*xyz)}" rpy="{rpy}"/><geometry>{geometry}</geometry>'
            f'<material name="{material}"/></visual>\n')


def _joint(t: FixedTransform, name: str) -> str:
    return (f'  <joint name={quoteattr(name)} type="fixed">\n'
            f'    <parent link={quoteattr(t.parent)}/><child link={quoteattr(t.child)}/>\n'
            f'    <origin xyz="{_f(*t.translation)}" rpy="{_f(*t.rpy)}"/>\n  </joint>\n')


def robot_urdf(camera: CameraSpec | None = None, frames: Frames | None = None) -> str:
    """Return the URDF of the simulated diff-drive robot with its camera at `camera`'s mount."""
    camera, frames = camera or CameraSpec(), frames or Frames()
    mount, optical = camera_mount(camera, frames)
    mast_half = max(0.01, camera.mount_z / 2.0 - 0.06)
    base = ''.join((
        _visual(f'<cylinder radius="{_f(ROBOT_RADIUS - 0.005)}" length="0.08"/>', (0, 0, 0.1), 'body'),
        _visual(f'<cylinder radius="{_f(ROBOT_RADIUS - 0.03)}" length="0.01"/>', (0, 0, 0.145), 'deck'),
        _visual('<sphere radius="0.025"/>', (-0.14, 0, 0.025), 'grey'),
        *(_visual(f'<cylinder radius="{_f(WHEEL_RADIUS)}" length="0.024"/>',
                  (0, sign * WHEEL_SEPARATION / 2.0, WHEEL_RADIUS), 'dark', '1.5708 0 0')
          for sign in (1.0, -1.0)),
        _visual(f'<box size="{_f(0.03, 0.04, 2 * mast_half)}"/>',
                (camera.mount_x - 0.035, 0, camera.mount_z / 2.0 + 0.06), 'grey'),
    ))
    materials = ''.join(f'  <material name="{name}"><color rgba="{rgba}"/></material>\n'
                        for name, rgba in MATERIALS.items())
    return (
        '<?xml version="1.0"?>\n'
        f'<robot name="{ROBOT_NAME}">\n{materials}'
        f'  <link name={quoteattr(frames.base)}>\n{base}'
        '    <inertial><origin xyz="0 0 0.1"/><mass value="5"/>'
        '<inertia ixx="0.06" ixy="0" ixz="0" iyy="0.06" iyz="0" izz="0.1"/></inertial>\n'
        '    <collision><origin xyz="0 0 0.1"/><geometry>'
        f'<cylinder radius="{_f(ROBOT_RADIUS)}" length="0.2"/></geometry></collision>\n  </link>\n'
        f'  <link name={quoteattr(frames.camera_link)}>\n'
        + _visual('<box size="0.03 0.06 0.04"/>', (-0.02, 0, 0), 'dark')
        + '    <inertial><mass value="0.05"/>'
        '<inertia ixx="1e-5" ixy="0" ixz="0" iyy="1e-5" iyz="0" izz="1e-5"/></inertial>\n  </link>\n'
        f'  <link name={quoteattr(frames.camera_optical)}/>\n'
        + _joint(mount, 'camera_joint') + _joint(optical, 'camera_optical_joint')
        + '</robot>\n')
