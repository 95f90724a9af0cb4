"""`physical-ai up --robot sim` publishes a REP 105 TF tree that places the camera, odom and markers.

Checked on the running stack: a chain of transforms from odom to the images' frame_id, odom ->
base_link on /tf equal to /odom at the same stamp, the camera mount on /tf_static (transient
local, so a late subscriber gets it), planner markers only in frames connected to odom, and
every display of the shipped rviz config served (`physical-ai rviz-check`).
"""

import json
import math
import signal
import subprocess
import warnings

from nav_msgs.msg import Odometry
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from physical_ai.core.profiles import load_profile
from physical_ai.testing import python_command

RELIABLE = QoSProfile(depth=100)
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def fixed_ball_model(path):
    """Write a physical_ai/1 TorchScript model that always reports a ball at the image centre."""
    import torch

    class FixedBall(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, w = x.shape[2], x.shape[3]
            return torch.tensor([[w * 0.45, h * 0.4, w * 0.55, h * 0.6, 0.9, 1.0]])

    meta = {'format': 'physical_ai/1', 'names': ['person', 'ball', 'box', 'cylinder'], 'input_size': [64, 64],
            'input_channels': 'rgb', 'scale': 1 / 255, 'mean': [0.0, 0.0, 0.0], 'std': [1.0, 1.0, 1.0],
            'output': 'xyxy_score_class'}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # TorchScript is deprecated upstream
        torch.jit.save(torch.jit.script(FixedBall()), str(path),
                       _extra_files={'physical_ai.json': json.dumps(meta)})
    return path


def parents(messages):
    """Return {child: parent} of every transform in `messages` (TFMessage)."""
    return {t.child_frame_id: t.header.frame_id for m in messages for t in m.transforms}


def connected(tree, frame, root):
    seen = set()
    while frame != root:
        if frame in seen or frame not in tree:
            return False
        seen.add(frame)
        frame = tree[frame]
    return True


def test_sim_profile_publishes_the_tf_tree(ros, spawn, tmp_path):
    model = fixed_ball_model(tmp_path / 'fixed_ball.pt')
    runner = spawn(python_command('-m', 'physical_ai.cli', 'up', '--robot', 'sim',
                                  '--set', f'inference.model_path={model}',
                                  '--set', 'sim.camera_width=160', '--set', 'sim.camera_height=120',
                                  '--set', 'sim.ground_truth=false'), name='runner')
    tfs = ros.collect(TFMessage, '/tf', RELIABLE)
    odoms = ros.collect(Odometry, '/odom', QoSProfile(depth=100))
    images = ros.collect(Image, '/camera/image_raw')
    markers = ros.collect(MarkerArray, '/planner/target', QoSProfile(depth=10))

    image = images.wait(1, timeout=120)[0]
    markers.wait(1, timeout=60, predicate=lambda m: any(x.type == Marker.SPHERE for x in m.markers))
    odoms.wait(1, timeout=30, predicate=lambda m: m.pose.pose.position.x > 0.05)  # driving to the "ball"
    # Subscribed only now, long after it was published: transient local delivers it still.
    static = ros.wait_for(TFMessage, '/tf_static', qos=LATCHED, timeout=20)[0]
    assert {(t.header.frame_id, t.child_frame_id) for t in static.transforms} == {
        ('base_link', 'camera_link'), ('camera_link', 'camera_optical_frame')}
    mount = next(t.transform.translation for t in static.transforms if t.child_frame_id == 'camera_link')
    assert (mount.x, mount.y, mount.z) == pytest.approx((0.17, 0.0, 0.3))

    tfs.wait(10, timeout=30)  # /tf discovery may complete after /odom's on a loaded machine
    tree = parents([*tfs.messages, static])
    assert image.header.frame_id == 'camera_optical_frame'
    assert connected(tree, image.header.frame_id, 'odom'), tree
    assert all(t.header.frame_id == 'odom' and t.child_frame_id == 'base_link'
               for m in tfs.messages for t in m.transforms)

    def matched() -> int:
        """Count /tf transforms with an /odom pose of the same stamp; each must agree with it."""
        by_stamp = {(m.header.stamp.sec, m.header.stamp.nanosec): m.pose.pose for m in list(odoms.messages)}
        count = 0
        for msg in list(tfs.messages):
            t = msg.transforms[0]
            pose = by_stamp.get((t.header.stamp.sec, t.header.stamp.nanosec))
            if pose is not None:
                count += 1
                offset = math.hypot(t.transform.translation.x - pose.position.x,
                                    t.transform.translation.y - pose.position.y)
                assert offset < 0.05, (t, pose)
        return count

    # A transform can arrive before the odometry of the same stamp (two topics): wait for the pairs.
    ros.wait_until(lambda: matched() >= 10, timeout=30, what='10 /tf transforms matching /odom stamps')

    frames = {m.header.frame_id for a in markers.messages for m in a.markers if m.action == Marker.ADD}
    assert frames == {'camera_optical_frame', 'base_link'}
    assert all(connected(tree, frame, 'odom') for frame in frames)

    # Every display of the shipped rviz config gets data from this graph, with a QoS that matches.
    checked = subprocess.run(python_command('-m', 'physical_ai.cli', 'rviz-check', '--robot', 'sim',
                                            '--timeout', '30'), capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert 'every display gets data' in checked.stdout
    assert runner.stop(signal.SIGINT, timeout=10.0) == 0, runner.output()[-3000:]


@pytest.mark.parametrize('namespace, tf', [(None, '/tf'), ('robot1', '/robot1/tf')])
def test_tf_topics_follow_the_namespace_as_nav2_remaps_them(namespace, tf):
    profile = load_profile('sim', namespace=namespace)
    sim = profile.node('sim')
    assert sim.resolve_topic('/tf') == tf and sim.resolve_topic('/tf_static') == tf + '_static'
