"""Rig probe of a robot host: feeds the planner a target and reports what the robot's cmd_vel does.

`python -m physical_ai.fleet.probe --namespace robot1` publishes camera_info-consistent detections
of a ball straight ahead (so the planner drives) and watches `<ns>/cmd_vel`, printing one JSON
line per change: {"event": "moving"|"stopped", "t": monotonic seconds}. It stands in for the
detector and the motors, nothing else: the planner (and whatever gates its output) is real.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from geometry_msgs.msg import Twist
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from vision_msgs.msg import (
    BoundingBox2D,
    Detection2D,
    Detection2DArray,
    ObjectHypothesis,
    ObjectHypothesisWithPose,
)

from physical_ai.nodes.common import spin_nodes

MOVING = 0.02  # m/s: above this the base is driving


def emit(**fields: object) -> None:
    """Print one JSON event line."""
    print(json.dumps({**fields, 't': time.monotonic()}), flush=True)


class DriveProbe(Node):
    """Publishes a ball ahead at `rate` Hz and reports cmd_vel changes."""

    def __init__(self, rate: float = 10.0, **kwargs: object) -> None:
        super().__init__('rig_drive_probe', **kwargs)
        self._pub = self.create_publisher(Detection2DArray, 'detections',
                                          QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
        self.create_subscription(Twist, 'cmd_vel', self._on_cmd, QoSProfile(depth=10))
        self.create_timer(1.0 / rate, self._tick)
        self.moving: bool | None = None
        self.commands = 0

    def _tick(self) -> None:
        msg = Detection2DArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = 'camera_optical_frame'
        # A 0.25 m ball 3 m away at fx = 500 is 41.7 px tall, centred: drive straight at it.
        det = Detection2D(bbox=BoundingBox2D(size_x=41.7, size_y=41.7))
        det.bbox.center.position.x, det.bbox.center.position.y = 320.0, 240.0
        det.results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id='ball', score=0.9))]
        msg.detections = [det]
        self._pub.publish(msg)

    def _on_cmd(self, msg: Twist) -> None:
        self.commands += 1
        moving = abs(msg.linear.x) > MOVING or abs(msg.angular.z) > MOVING
        if moving != self.moving:
            self.moving = moving
            emit(event='moving' if moving else 'stopped', linear=round(msg.linear.x, 3),
                 commands=self.commands)


def main(argv: list[str] | None = None) -> int:
    """Run the probe until SIGINT."""
    parser = argparse.ArgumentParser(prog='python -m physical_ai.fleet.probe', description=__doc__)
    parser.add_argument('--namespace', required=True, help='the robot namespace, e.g. robot1')
    parser.add_argument('--rate', type=float, default=10.0, help='detections per second')
    args = parser.parse_args(argv)
    emit(event='probe_started')
    return spin_nodes([lambda: DriveProbe(args.rate, namespace=args.namespace)], threads=1)


if __name__ == '__main__':
    sys.exit(main())
