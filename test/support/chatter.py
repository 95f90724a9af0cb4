"""Two minimal real nodes for harness tests: `talk TEXT` publishes, `listen` exits after one message."""

import sys

import rclpy
from rclpy.node import Node
from std_msgs.msg import String


def talk(text: str) -> None:
    rclpy.init()
    node = Node('chatter_talker')
    pub = node.create_publisher(String, 'chatter', 10)
    node.create_timer(0.05, lambda: pub.publish(String(data=text)))
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass


def listen() -> int:
    rclpy.init()
    node = Node('chatter_listener')
    got: list[str] = []
    node.create_subscription(String, 'chatter', lambda m: got.append(m.data), 10)
    while rclpy.ok() and not got:
        rclpy.spin_once(node, timeout_sec=0.1)
    print(f'heard: {got[0]}', flush=True)
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == '__main__':
    if sys.argv[1] == 'talk':
        talk(sys.argv[2])
    else:
        sys.exit(listen())
