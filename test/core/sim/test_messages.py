"""Messages of the simulator's outputs: stamps, odometry, pose, ground truth."""

import math

import pytest
from std_msgs.msg import Header

from physical_ai.core.sim.messages import clock_msg, ground_truth_msg, odometry_msg, pose_msg, stamp
from physical_ai.core.sim.render import Truth
from physical_ai.core.sim.simulator import SimState


def test_stamps_are_exact():
    assert (stamp(3_000_000_001).sec, stamp(3_000_000_001).nanosec) == (3, 1)
    assert clock_msg(2_500_000_000).clock.nanosec == 500_000_000


def test_odometry_and_pose():
    state = SimState(1.0, 500, 2.0, 3.0, math.pi / 2, 0.5, 0.1, 0.2, 0.4, -0.3)
    odom = odometry_msg(state, 1_000_000_000)
    assert (odom.header.frame_id, odom.child_frame_id) == ('odom', 'base_link')
    assert (odom.pose.pose.position.x, odom.pose.pose.position.y) == (0.5, 0.1)
    assert 2 * math.atan2(odom.pose.pose.orientation.z, odom.pose.pose.orientation.w) == pytest.approx(0.2)
    assert (odom.twist.twist.linear.x, odom.twist.twist.angular.z) == (0.4, -0.3)
    assert odom.pose.covariance[0] < odom.pose.covariance[14]
    pose = pose_msg(state, 1_000_000_000, 'map')
    assert pose.header.frame_id == 'map' and pose.pose.position.y == 3.0
    assert pose.pose.orientation.z == pytest.approx(math.sin(math.pi / 4))


def test_ground_truth():
    header = Header(frame_id='camera_optical_frame')
    header.stamp.sec = 4
    truths = [Truth('ball_0', 'ball', (10.0, 20.0, 30.0, 60.0), 500, (0.1, 0.2, 3.0))]
    msg = ground_truth_msg(truths, header)
    assert msg.header.stamp.sec == 4 and len(msg.detections) == 1
    det = msg.detections[0]
    assert det.id == 'ball_0' and det.header.frame_id == 'camera_optical_frame'
    assert (det.bbox.center.position.x, det.bbox.center.position.y) == (20.0, 40.0)
    assert (det.bbox.size_x, det.bbox.size_y) == (20.0, 40.0)
    result = det.results[0]
    assert result.hypothesis.class_id == 'ball' and result.hypothesis.score == 1.0
    assert result.pose.pose.position.z == 3.0
