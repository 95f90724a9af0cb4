"""Gazebo (gz sim) world of a scenario: the embedded simulator's world and robot as SDFormat 1.9.

`world_sdf(spec)` writes what `sample_world(scenario, seed, camera)` draws for the embedded
simulator: the same objects at the same poses and sizes, the same robot (diff drive with the same
wheel radius, separation and limits) with the same camera (size, intrinsics, mount, rate), the
same light. Gazebo then publishes the topics the `gazebo` profile bridges (`GZ_TOPICS`), and
`bridge_config(profile)` writes that bridge as a ros_gz_bridge YAML file. Differences, because
MJCF and SDF model differently: the person stands with straight limbs; the floor is one colour.
Plain Python: the CLI (`physical-ai gazebo-world`) and gazebo.launch.py use it.
"""

from __future__ import annotations

from collections.abc import Iterable
import math
from typing import Any
from xml.sax.saxutils import escape

from physical_ai.core.frames import Frames
from physical_ai.core.sim.robot import BaseLimits
from physical_ai.core.sim.world import ROBOT_RADIUS, WHEEL_RADIUS, WHEEL_SEPARATION, ObjectSpec, WorldSpec

SDF_VERSION = '1.9'
MODEL = 'robot'
# The rgbd_camera sensor's <topic>: gz publishes <topic>/image, <topic>/depth_image (32FC1 m, aligned
# with the colour image) and <topic>/camera_info (one for both).
CAMERA_TOPIC = 'camera'
# Gazebo topics of the generated world; config/robots/gazebo.yaml bridges exactly these.
GZ_TOPICS = {
    'camera': f'/{CAMERA_TOPIC}/image',
    'camera_info': f'/{CAMERA_TOPIC}/camera_info',
    'depth': f'/{CAMERA_TOPIC}/depth_image',
    'cmd_vel': f'/model/{MODEL}/cmd_vel',
    'odometry': f'/model/{MODEL}/odometry',
    'tf': f'/model/{MODEL}/tf',
    'clock': '/clock',
}
BRIDGE_DIRECTIONS = {'gz_to_ros': 'GZ_TO_ROS', 'ros_to_gz': 'ROS_TO_GZ', 'bidirectional': 'BIDIRECTIONAL'}


def _f(*values: float) -> str:
    return ' '.join(f'{v:.6g}' for v in values)


def _pose(x: float = 0.0, y: float = 0.0, z: float = 0.0, roll: float = 0.0, pitch: float = 0.0,
          yaw: float = 0.0) -> str:
    return f'<pose>{_f(x, y, z, roll, pitch, yaw)}</pose>'


def _material(rgba: Iterable[float]) -> str:
    colour = _f(*rgba)
    return f'<material><ambient>{colour}</ambient><diffuse>{colour}</diffuse></material>'


def _shape(name: str, geometry: str, pose: str, rgba: Iterable[float], collide: bool = True,
           surface: str = '') -> str:
    out = f'<visual name="{name}">{pose}<geometry>{geometry}</geometry>{_material(rgba)}</visual>'
    if collide:
        out += (f'<collision name="{name}_collision">{pose}<geometry>{geometry}</geometry>{surface}'
                '</collision>')
    return out


def _inertial(mass: float, ixx: float, iyy: float, izz: float, z: float = 0.0) -> str:
    return (f'<inertial>{_pose(z=z)}<mass>{_f(mass)}</mass><inertia><ixx>{_f(ixx)}</ixx><ixy>0</ixy>'
            f'<ixz>0</ixz><iyy>{_f(iyy)}</iyy><iyz>0</iyz><izz>{_f(izz)}</izz></inertia></inertial>')


def _capsule(radius: float, length: float) -> str:
    return f'<capsule><radius>{_f(radius)}</radius><length>{_f(length)}</length></capsule>'


def object_model(obj: ObjectSpec) -> str:
    """Return one static object as an SDF model (the shapes of world.py's MJCF body)."""
    c = obj.colours
    parts = []
    if obj.class_name == 'ball':
        r = obj.size[0] / 2.0
        parts.append(_shape('ball', f'<sphere><radius>{_f(r)}</radius></sphere>', _pose(z=r), c[0]))
    elif obj.class_name == 'box':
        length, width, height = obj.size
        geometry = f'<box><size>{_f(length, width, height)}</size></box>'
        parts.append(_shape('box', geometry, _pose(z=height / 2), c[0]))
    elif obj.class_name == 'cylinder':
        diameter, height = obj.size
        parts.append(_shape('cylinder', f'<cylinder><radius>{_f(diameter / 2)}</radius><length>{_f(height)}'
                            '</length></cylinder>', _pose(z=height / 2), c[0]))
    else:  # the person of world.py's _person_xml, limbs straight
        h = obj.size[0]
        s = h / 1.75
        shirt, trousers, skin = c
        hip, leg_r, arm_r = 0.5 * h, 0.065 * s, 0.045 * s
        torso_r, head_r, shoulder = 0.14 * s, 0.105 * s, 0.8 * h
        torso_bottom, torso_top = hip + torso_r, shoulder - 0.3 * torso_r
        parts.append(_shape('torso', _capsule(torso_r, torso_top - torso_bottom),
                            _pose(z=(torso_bottom + torso_top) / 2), shirt))
        head = f'<sphere><radius>{_f(head_r)}</radius></sphere>'
        parts.append(_shape('head', head, _pose(z=h - head_r), skin))
        arm_y = torso_r + arm_r + 0.01 * s
        for side, sign in (('left', 1.0), ('right', -1.0)):
            parts.append(_shape(f'{side}_leg', _capsule(leg_r, hip - leg_r),
                                _pose(y=sign * 0.09 * s, z=(hip + leg_r) / 2), trousers))
            parts.append(_shape(f'{side}_arm', _capsule(arm_r, 0.36 * h),
                                _pose(y=sign * arm_y, z=shoulder - 0.18 * h), shirt))
            parts.append(_shape(f'{side}_hand', f'<sphere><radius>{_f(arm_r * 1.15)}</radius></sphere>',
                                _pose(y=sign * arm_y, z=shoulder - 0.36 * h - arm_r), skin))
    return (f'<model name="{escape(obj.name)}"><static>true</static>{_pose(obj.x, obj.y, 0.0, yaw=obj.yaw)}'
            f'<link name="link">{"".join(parts)}</link></model>')


def robot_model(spec: WorldSpec, frames: Frames | None = None, camera_rate: float = 15.0,
                limits: BaseLimits | None = None) -> str:
    """Return the robot as an SDF model: base, two driven wheels, a frictionless caster, the camera."""
    frames, limits, camera = frames or Frames(), limits or BaseLimits(), spec.camera
    x, y, yaw = spec.start_pose
    intr = camera.intrinsics
    slippery = '<surface><friction><ode><mu>0</mu><mu2>0</mu2></ode></friction></surface>'
    base = (
        f'<link name="{frames.base}">'
        + _inertial(5.0, 0.06, 0.06, 0.1, z=0.1)
        + _shape('chassis', f'<cylinder><radius>{_f(ROBOT_RADIUS - 0.005)}</radius><length>0.08</length>'
                 '</cylinder>', _pose(z=0.1), (0.85, 0.85, 0.88, 1.0))
        + _shape('caster', '<sphere><radius>0.025</radius></sphere>', _pose(-0.14, 0, 0.025),
                 (0.3, 0.3, 0.3, 1.0), surface=slippery)
        + _shape('mast', f'<box><size>{_f(0.03, 0.04, max(0.02, camera.mount_z - 0.12))}</size></box>',
                 _pose(camera.mount_x - 0.035, 0, camera.mount_z / 2 + 0.06), (0.3, 0.3, 0.3, 1.0), False)
        + '</link>')
    wheels = joints = ''
    for side, sign in (('left', 1.0), ('right', -1.0)):
        wheels += (
            f'<link name="{side}_wheel">{_pose(0, sign * WHEEL_SEPARATION / 2, WHEEL_RADIUS, -math.pi / 2)}'
            + _inertial(0.3, 2e-4, 2e-4, 4e-4)
            + _shape('wheel', f'<cylinder><radius>{_f(WHEEL_RADIUS)}</radius><length>0.024</length>'
                     '</cylinder>', _pose(), (0.1, 0.1, 0.1, 1.0))
            + '</link>')
        joints += (f'<joint name="{side}_wheel_joint" type="revolute"><parent>{frames.base}</parent>'
                   f'<child>{side}_wheel</child><axis><xyz>0 0 1</xyz><limit><lower>-1e16</lower>'
                   '<upper>1e16</upper></limit></axis></joint>')
    # The camera: Gazebo's looks along +x of its link (camera_link), and fx = (width / 2) / tan(hfov / 2).
    camera_link = (
        f'<link name="{frames.camera_link}">{_pose(camera.mount_x, 0, camera.mount_z, pitch=camera.pitch)}'
        + _inertial(0.05, 1e-5, 1e-5, 1e-5)
        + _shape('camera_body', '<box><size>0.03 0.06 0.04</size></box>', _pose(-0.02), (0.1, 0.1, 0.1, 1.0),
                 False)
        + f'<sensor name="camera" type="rgbd_camera"><always_on>true</always_on>'
        f'<update_rate>{_f(camera_rate)}</update_rate><topic>{CAMERA_TOPIC}</topic>'
        f'<gz_frame_id>{frames.camera_optical}</gz_frame_id>'
        f'<camera name="camera"><horizontal_fov>{camera.hfov:.9g}</horizontal_fov>'
        f'<image><width>{camera.width}</width><height>{camera.height}</height>'
        '<format>R8G8B8</format></image>'
        '<clip><near>0.005</near><far>40</far></clip>'
        f'<camera_info_topic>{GZ_TOPICS["camera_info"].lstrip("/")}</camera_info_topic>'
        f'<lens><intrinsics><fx>{intr.fx:.9g}</fx><fy>{intr.fy:.9g}</fy><cx>{intr.cx:.9g}</cx>'
        f'<cy>{intr.cy:.9g}</cy><s>0</s></intrinsics></lens></camera></sensor>'
        '</link>')
    camera_joint = (f'<joint name="camera_joint" type="fixed"><parent>{frames.base}</parent>'
                    f'<child>{frames.camera_link}</child></joint>')
    drive = (
        '<plugin filename="gz-sim-diff-drive-system" name="gz::sim::systems::DiffDrive">'
        '<left_joint>left_wheel_joint</left_joint><right_joint>right_wheel_joint</right_joint>'
        f'<wheel_separation>{_f(WHEEL_SEPARATION)}</wheel_separation>'
        f'<wheel_radius>{_f(WHEEL_RADIUS)}</wheel_radius>'
        f'<max_linear_velocity>{_f(limits.max_linear_speed)}</max_linear_velocity>'
        f'<max_angular_velocity>{_f(limits.max_angular_speed)}</max_angular_velocity>'
        f'<max_linear_acceleration>{_f(limits.max_linear_accel)}</max_linear_acceleration>'
        f'<max_angular_acceleration>{_f(limits.max_angular_accel)}</max_angular_acceleration>'
        f'<topic>{GZ_TOPICS["cmd_vel"]}</topic><odom_topic>{GZ_TOPICS["odometry"]}</odom_topic>'
        f'<tf_topic>{GZ_TOPICS["tf"]}</tf_topic><frame_id>{frames.odom}</frame_id>'
        f'<child_frame_id>{frames.base}</child_frame_id><odom_publish_frequency>50</odom_publish_frequency>'
        '</plugin>')
    return (f'<model name="{MODEL}">{_pose(x, y, 0.0, yaw=yaw)}<canonical_link>{frames.base}</canonical_link>'
            f'{base}{wheels}{joints}{camera_link}{camera_joint}{drive}</model>')


def world_sdf(spec: WorldSpec, name: str = 'physical_ai', frames: Frames | None = None,
              camera_rate: float = 15.0, limits: BaseLimits | None = None) -> str:
    """Return an SDF world with the scenario's floor, light, objects and the robot."""
    light, (floor, _), (sky, _) = spec.lighting, spec.floor, spec.sky
    plugins = ''.join(
        f'<plugin filename="gz-sim-{lib}-system" name="gz::sim::systems::{cls}">{inner}</plugin>'
        for lib, cls, inner in (('physics', 'Physics', ''), ('user-commands', 'UserCommands', ''),
                                ('scene-broadcaster', 'SceneBroadcaster', ''),
                                ('sensors', 'Sensors', '<render_engine>ogre2</render_engine>')))
    ambient = _f(light.ambient, light.ambient, light.ambient, 1.0)
    ground = ('<model name="floor"><static>true</static><link name="link">'
              + _shape('floor', '<plane><normal>0 0 1</normal><size>80 80</size></plane>', _pose(), floor)
              + '</link></model>')
    return (
        '<?xml version="1.0"?>\n'
        f'<sdf version="{SDF_VERSION}"><world name="{escape(name)}">'
        f'<physics name="fixed_step" type="ode"><max_step_size>{_f(spec.timestep)}</max_step_size>'
        '<real_time_factor>1</real_time_factor></physics>'
        f'{plugins}<gravity>0 0 -9.81</gravity>'
        f'<scene><ambient>{ambient}</ambient><background>{_f(*sky)}</background>'
        '<shadows>false</shadows></scene>'
        f'<light name="sun" type="directional"><cast_shadows>false</cast_shadows>'
        f'<diffuse>{_f(light.diffuse, light.diffuse, light.diffuse, 1.0)}</diffuse>'
        f'<specular>0.1 0.1 0.1 1</specular><direction>{_f(*light.direction)}</direction></light>'
        f'{ground}{"".join(object_model(o) for o in spec.objects)}'
        f'{robot_model(spec, frames, camera_rate, limits)}'
        '</world></sdf>\n')


def bridge_config(topics: Iterable[Any]) -> list[dict[str, str]]:
    """Return ros_gz_bridge's YAML config entries (its `config_file`) of a profile's gz_bridge topics."""
    return [{'ros_topic_name': t.ros, 'gz_topic_name': t.gz, 'ros_type_name': t.type,
             'gz_type_name': t.gz_type, 'direction': BRIDGE_DIRECTIONS[t.direction]} for t in topics]

