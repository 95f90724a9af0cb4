"""The operator station node over real DDS (loopback): follows robots, e-stops one or all, latches."""

import time

from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Bool

from physical_ai.nodes.common import Diagnostics, sensor_qos
from physical_ai.nodes.operator_node import OperatorNode

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


def operator(ros, robots=()):
    params = [Parameter('robots', value=list(robots))] if robots else []
    return ros.add(OperatorNode(context=ros.context, parameter_overrides=params
                                + [Parameter('discover_period', value=0.2)]))


def test_follows_found_robots_and_attributes_their_diagnostics(ros):
    node = operator(ros)
    cam = ros.node('camera', namespace='/robot7')
    pub = cam.create_publisher(Image, 'camera/image_raw', sensor_qos())
    # The camera's hardware_id is its device, not its namespace: attributed by the publisher.
    Diagnostics(cam, 'capture', lambda: ('ok', 'fine', {'frames_published': 3}), period=0.2,
                hardware_id='/dev/video0')
    image = Image(width=4, height=2, encoding='mono8', step=4, data=bytes(8))
    ros.wait_until(lambda: '/robot7' in node.fleet.robots, what='the robot found in the graph')
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not node.report()['/robot7']['images']:
        pub.publish(image)
        time.sleep(0.05)
    ros.wait_until(lambda: node.report()['/robot7']['diagnostics'], what='diagnostics of the robot')
    report = node.report()['/robot7']
    assert report['image_size'] == '4x2 mono8' and report['images'] >= 1
    assert report['diagnostics'] == {'camera: capture': 'ok: fine'}
    assert '/robot7/camera' in node.graph()['nodes']


def test_e_stop_one_and_all_latched_for_late_joiners(ros):
    node = operator(ros, robots=['robot1', 'robot2'])
    early = ros.collect(Bool, '/robot1/e_stop', LATCHED)
    assert node.engage('robot1') == ['/robot1']
    assert early.wait(1, 5)[0].data is True
    # A robot (re)joining after the command still gets it: transient local.
    late = ros.collect(Bool, '/robot1/e_stop', LATCHED)
    assert late.wait(1, 5)[0].data is True
    assert node.engage('all') == ['/robot1', '/robot2']
    # 'all' holds for robots the station meets later too.
    node.follow('robot3')
    third = ros.collect(Bool, '/robot3/e_stop', LATCHED)
    assert third.wait(1, 5)[0].data is True
    assert node.release('all') == ['/robot1', '/robot2', '/robot3']
    assert third.wait(2, 5)[1].data is False
    assert [e['engaged'] for e in node.events if e['robot'] == '/robot3'] == [True, False]
