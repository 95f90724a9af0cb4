"""The Gazebo world of a scenario: the embedded simulator's world, robot, camera and topics in SDF.

Gazebo cannot run here. What is checked: the SDF is well-formed SDFormat 1.9 as far as names and
structure go (libsdformat's `sdf -k` also passed by hand, see docs/gazebo.md), it holds the very
objects, camera intrinsics, mount and drive of the embedded simulator, its topics are exactly the
ones the `gazebo` profile bridges, and the bridge file follows ros_gz_bridge's config schema.
"""

import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from physical_ai.core.profiles import load_profile
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.gazebo import GZ_TOPICS, MODEL, bridge_config, world_sdf
from physical_ai.core.sim.scenario import load_scenario
from physical_ai.core.sim.world import WHEEL_RADIUS, WHEEL_SEPARATION, sample_world

# ros_gz_bridge's config_file keys (bridge_config.cpp) and the message pairs it maps (mappings.py).
BRIDGE_KEYS = {'topic_name', 'ros_topic_name', 'gz_topic_name', 'ros_type_name', 'gz_type_name', 'direction',
               'publisher_queue', 'subscriber_queue', 'lazy'}
BRIDGE_DIRECTIONS = {'BIDIRECTIONAL', 'GZ_TO_ROS', 'ROS_TO_GZ'}
BRIDGE_PAIRS = {
    ('sensor_msgs/msg/Image', 'gz.msgs.Image'), ('sensor_msgs/msg/CameraInfo', 'gz.msgs.CameraInfo'),
    ('geometry_msgs/msg/Twist', 'gz.msgs.Twist'), ('geometry_msgs/msg/TwistStamped', 'gz.msgs.Twist'),
    ('nav_msgs/msg/Odometry', 'gz.msgs.Odometry'), ('tf2_msgs/msg/TFMessage', 'gz.msgs.Pose_V'),
    ('rosgraph_msgs/msg/Clock', 'gz.msgs.Clock'),
}
# What the embedded simulator's node offers under the same ROS names (docs/sim.md).
SIM_TOPICS = {'camera/image_raw': 'sensor_msgs/msg/Image', 'camera/camera_info': 'sensor_msgs/msg/CameraInfo',
              'camera/depth/image_raw': 'sensor_msgs/msg/Image',
              'cmd_vel': 'geometry_msgs/msg/Twist', 'odom': 'nav_msgs/msg/Odometry',
              'tf': 'tf2_msgs/msg/TFMessage', '/clock': 'rosgraph_msgs/msg/Clock'}


def floats(text):
    return [float(v) for v in text.split()]


def check_unique_names(element, path='sdf'):
    """SDFormat: the children of an element that carry a name have distinct names."""
    names = [child.get('name') for child in element if child.get('name') is not None]
    assert len(names) == len(set(names)), f'{path}: repeated names {sorted(names)}'
    for child in element:
        check_unique_names(child, f'{path}/{child.tag}[{child.get("name", "")}]')


@pytest.fixture(scope='module')
def demo():
    camera = CameraSpec(640, 480, 60.0, pitch=0.1)
    spec = sample_world(load_scenario('demo'), seed=3, camera=camera)
    return spec, ET.fromstring(world_sdf(spec, 'demo', camera_rate=15.0))


def test_world_holds_the_scenarios_objects(demo):
    spec, root = demo
    assert root.tag == 'sdf' and root.get('version') == '1.9'
    check_unique_names(root)
    world = root.find('world')
    models = {m.get('name'): m for m in world.findall('model')}
    assert set(models) == {'floor', MODEL, *(o.name for o in spec.objects)}
    for obj in spec.objects:
        x, y, z, _, _, yaw = floats(models[obj.name].findtext('pose'))
        assert (x, y, z, yaw) == pytest.approx((obj.x, obj.y, 0.0, obj.yaw), abs=1e-5)
        assert models[obj.name].findtext('static') == 'true'
    ball = models[spec.target]
    radius = float(ball.find('link/visual/geometry/sphere/radius').text)
    assert radius == pytest.approx(spec.object(spec.target).size[0] / 2)
    assert float(world.findtext('physics/max_step_size')) == spec.timestep


def test_robot_camera_and_drive_match_the_embedded_simulator(demo):
    spec, root = demo
    robot = next(m for m in root.iter('model') if m.get('name') == MODEL)
    camera = spec.camera
    link = next(link for link in robot.findall('link') if link.get('name') == 'camera_link')
    pose = floats(link.findtext('pose'))
    assert pose == pytest.approx([camera.mount_x, 0.0, camera.mount_z, 0.0, camera.pitch, 0.0])
    sensor = link.find('sensor')
    assert sensor.get('type') == 'rgbd_camera' and float(sensor.findtext('update_rate')) == 15.0
    assert sensor.findtext('gz_frame_id') == 'camera_optical_frame'
    width, height = int(sensor.findtext('camera/image/width')), int(sensor.findtext('camera/image/height'))
    hfov = float(sensor.findtext('camera/horizontal_fov'))
    intr = camera.intrinsics
    # Gazebo's focal length from the horizontal field of view is the simulator's.
    assert (width, height) == (640, 480)
    assert (width / 2) / math.tan(hfov / 2) == pytest.approx(intr.fx, rel=1e-8)
    lens = {k: float(sensor.findtext(f'camera/lens/intrinsics/{k}')) for k in ('fx', 'fy', 'cx', 'cy')}
    assert lens == pytest.approx({'fx': intr.fx, 'fy': intr.fy, 'cx': intr.cx, 'cy': intr.cy})
    drive = next(p for p in robot.findall('plugin') if p.get('name') == 'gz::sim::systems::DiffDrive')
    assert float(drive.findtext('wheel_radius')) == WHEEL_RADIUS
    assert float(drive.findtext('wheel_separation')) == WHEEL_SEPARATION
    assert (drive.findtext('frame_id'), drive.findtext('child_frame_id')) == ('odom', 'base_link')
    topics = {'camera': '/' + sensor.findtext('topic') + '/image',
              'depth': '/' + sensor.findtext('topic') + '/depth_image',
              'camera_info': '/' + sensor.findtext('camera/camera_info_topic'),
              'cmd_vel': drive.findtext('topic'), 'odometry': drive.findtext('odom_topic'),
              'tf': drive.findtext('tf_topic'), 'clock': '/clock'}
    assert topics == GZ_TOPICS
    joints = {j.get('name'): j for j in robot.findall('joint')}
    assert {j.findtext('child') for j in joints.values()} == {'left_wheel', 'right_wheel', 'camera_link'}


def test_gazebo_profile_bridges_exactly_the_worlds_topics_to_the_simulators_names():
    profile = load_profile('gazebo')
    assert {t.gz for t in profile.gz_bridge} == set(GZ_TOPICS.values())
    assert {t.ros: t.type for t in profile.gz_bridge} == SIM_TOPICS
    mount = profile.node('camera_mount').parameters
    camera = CameraSpec()
    assert mount['mount_xyz'] == [camera.mount_x, 0.0, camera.mount_z]
    assert mount['mount_rpy'] == [0.0, 0.0, 0.0]


def test_bridge_file_follows_ros_gz_bridge_schema():
    entries = yaml.safe_load(yaml.safe_dump(bridge_config(load_profile('gazebo').gz_bridge)))
    assert len(entries) == len(GZ_TOPICS)
    for entry in entries:
        assert set(entry) <= BRIDGE_KEYS
        assert entry['ros_type_name'] and entry['gz_type_name'] and entry['direction'] in BRIDGE_DIRECTIONS
        assert (entry['ros_type_name'], entry['gz_type_name']) in BRIDGE_PAIRS
    directions = {e['ros_topic_name']: e['direction'] for e in entries}
    assert directions['cmd_vel'] == 'ROS_TO_GZ' and directions['camera/image_raw'] == 'GZ_TO_ROS'


def test_gazebo_world_command_writes_world_urdf_and_bridge(tmp_path):
    command = [sys.executable, '-m', 'physical_ai.cli', 'gazebo-world', '--out', str(tmp_path)]
    done = subprocess.run([*command, '--scenario', 'person_in_path', '--seed', '2'], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    world = ET.parse(tmp_path / 'person_in_path.sdf').getroot()
    assert world.find('world').get('name') == 'person_in_path'
    assert ET.parse(tmp_path / 'robot.urdf').getroot().get('name') == 'physical_ai_sim'
    assert len(yaml.safe_load((tmp_path / 'bridge.yaml').read_text())) == len(GZ_TOPICS)
    bad = subprocess.run([*command, '--scenario', 'nowhere'], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "scenario 'nowhere' not found" in bad.stderr
