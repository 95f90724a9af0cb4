"""ROS messages of the simulator's outputs from plain states (no rclpy): clock, odometry, TF, pose, truth.

Conventions: odometry in `odom` (the start pose) for `base_link` with the twist in the base frame
(REP 105), and the same pose as the odom -> base_link transform of /tf; the camera mount as /tf_static
transforms (frames.py); the pose in the world frame; ground truth as vision_msgs/Detection2DArray with one
Detection2D per visible object (id = object name, bbox in image pixels, class name with score 1.0,
the object's centre in the camera optical frame as the hypothesis pose), header = the image's; the
same objects in 3D as vision_msgs/Detection3DArray (same ids and header; bbox centre = the object's
centre in the optical frame, oriented as the object, size along the object's own axes).
"""

from __future__ import annotations

from collections.abc import Iterable
import math
from typing import TYPE_CHECKING, Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from vision_msgs.msg import (
    Detection2D,
    Detection2DArray,
    Detection3D,
    Detection3DArray,
    ObjectHypothesisWithPose,
)

from physical_ai.core.frames import transform_msg, yaw_quaternion

if TYPE_CHECKING:  # importing them loads mujoco, whose GL backend the node chooses first
    from physical_ai.core.sim.render import Truth
    from physical_ai.core.sim.simulator import SimState

# Diagonal covariances of the (ideal) odometry: small for what a diff drive measures (x, y, yaw;
# vx, wz), large for what it cannot (z, roll, pitch; vy, vz, wx, wy), as robot_localization expects.
_POSE_COVARIANCE = (1e-4, 1e-4, 1e6, 1e6, 1e6, 1e-4)
_TWIST_COVARIANCE = (1e-4, 1e6, 1e6, 1e6, 1e6, 1e-4)


def stamp(time_ns: int) -> Time:
    """Return a builtin_interfaces/Time of a sim time in nanoseconds."""
    return Time(sec=time_ns // 1_000_000_000, nanosec=time_ns % 1_000_000_000)


def clock_msg(time_ns: int) -> Clock:
    """Return the /clock message of a sim time."""
    return Clock(clock=stamp(time_ns))


def _diagonal(values: tuple[float, ...]) -> list[float]:
    out = [0.0] * 36
    for i, value in enumerate(values):
        out[i * 7] = value
    return out


def _yaw_quaternion(msg_orientation: Any, yaw: float) -> None:
    msg_orientation.z = math.sin(yaw / 2.0)
    msg_orientation.w = math.cos(yaw / 2.0)


def odometry_msg(state: SimState, time_ns: int, odom_frame: str = 'odom',
                 base_frame: str = 'base_link') -> Odometry:
    """Return the odometry of a state: pose relative to the start pose, velocities in the base frame."""
    msg = Odometry()
    msg.header.stamp = stamp(time_ns)
    msg.header.frame_id = odom_frame
    msg.child_frame_id = base_frame
    msg.pose.pose.position.x, msg.pose.pose.position.y = state.odom_x, state.odom_y
    _yaw_quaternion(msg.pose.pose.orientation, state.odom_yaw)
    msg.pose.covariance = _diagonal(_POSE_COVARIANCE)
    msg.twist.twist.linear.x = state.linear
    msg.twist.twist.angular.z = state.angular
    msg.twist.covariance = _diagonal(_TWIST_COVARIANCE)
    return msg


def pose_msg(state: SimState, time_ns: int, world_frame: str = 'world') -> PoseStamped:
    """Return the robot's true pose in the world frame."""
    msg = PoseStamped()
    msg.header.stamp = stamp(time_ns)
    msg.header.frame_id = world_frame
    msg.pose.position.x, msg.pose.position.y = state.x, state.y
    _yaw_quaternion(msg.pose.orientation, state.yaw)
    return msg


def ground_truth_msg(truths: Iterable[Truth], header: Header) -> Detection2DArray:
    """Return the ground truth of one image (header = the image's header)."""
    msg = Detection2DArray(header=header)
    for truth in truths:
        det = Detection2D(header=header, id=truth.name)
        (det.bbox.center.position.x, det.bbox.center.position.y), (det.bbox.size_x, det.bbox.size_y) = \
            truth.centre, truth.size
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id = truth.class_name
        hypothesis.hypothesis.score = 1.0
        position = hypothesis.pose.pose.position
        position.x, position.y, position.z = truth.position
        det.results.append(hypothesis)
        msg.detections.append(det)
    return msg


def ground_truth_3d_msg(truths: Iterable[Truth], header: Header) -> Detection3DArray:
    """Return the 3D ground truth of one image (header = the image's, ids = those of `ground_truth_msg`)."""
    msg = Detection3DArray(header=header)
    for truth in truths:
        det = Detection3D(header=header, id=truth.name)
        centre = det.bbox.center
        centre.position.x, centre.position.y, centre.position.z = truth.position
        o = centre.orientation
        o.x, o.y, o.z, o.w = truth.orientation
        det.bbox.size.x, det.bbox.size.y, det.bbox.size.z = truth.extent
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id = truth.class_name
        hypothesis.hypothesis.score = 1.0
        hypothesis.pose.pose = centre
        det.results.append(hypothesis)
        msg.detections.append(det)
    return msg


def odom_tf_msg(state: SimState, time_ns: int, odom_frame: str = 'odom',
                base_frame: str = 'base_link') -> TFMessage:
    """Return odom -> base_link of a state for /tf: the very pose and stamp of `odometry_msg`."""
    pose, rotation = (state.odom_x, state.odom_y, 0.0), yaw_quaternion(state.odom_yaw)
    return TFMessage(transforms=[transform_msg(odom_frame, base_frame, time_ns, pose, rotation)])

