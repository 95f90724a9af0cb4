"""Camera mount node: publishes base_link -> camera_link -> camera_optical_frame on /tf_static.

For robots without a URDF (a robot with one runs robot_state_publisher instead): the profile
declares the mount (mount_xyz, mount_rpy), this node publishes it once, transient local, so any
later subscriber (rviz, tf2 listeners, recorders) gets it. /tf_static is absolute by convention;
a namespaced robot remaps it to tf_static (a profile `remappings` entry), as Nav2 does.
"""

from __future__ import annotations

from typing import Any

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from tf2_msgs.msg import TFMessage

from physical_ai.core.frames import Frames, mount_transforms, static_tf_msg
from physical_ai.nodes.common import declare_params, node_main
from physical_ai.params.camera_mount import PARAMS


class CameraMountNode(Node):
    """Publishes the camera mount declared in the profile; see docs/profiles.md."""

    def __init__(self, node_name: str = 'camera_mount', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        try:
            values = declare_params(self, PARAMS)
            frames = Frames(base=values['base_frame'], camera_link=values['camera_link_frame'],
                            camera_optical=values['camera_frame'])
            self.transforms = mount_transforms(values['mount_xyz'], values['mount_rpy'], frames)
        except Exception:
            self.destroy_node()
            raise
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._pub = self.create_publisher(TFMessage, '/tf_static', latched)
        self._pub.publish(static_tf_msg(self.transforms, self.get_clock().now().nanoseconds))
        mount = self.transforms[0]
        self.get_logger().info(
            f'{mount.parent} -> {mount.child} at ({", ".join(f"{v:g}" for v in mount.translation)}) m, '
            f'rpy ({", ".join(f"{v:g}" for v in mount.rpy)}) rad -> {self.transforms[1].child} on '
            f'{self._pub.topic_name}')


main = node_main(CameraMountNode)
