"""The planner node over real DDS with track ids in Detection2D.id: it keeps the locked target."""

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesis, ObjectHypothesisWithPose

from physical_ai.nodes.planner_node import PlannerNode

FX = 500.0
BALL_PX = 41.7  # a 0.25 m ball 3 m away at fx = fy = 500


def camera_info():
    return CameraInfo(width=640, height=480, k=[FX, 0.0, 320.0, 0.0, FX, 240.0, 0.0, 0.0, 1.0])


def detections(node, balls):
    """balls: (track id, score, u) of 3 m-away balls, stamped now."""
    msg = Detection2DArray()
    msg.header.stamp = node.get_clock().now().to_msg()
    for track_id, score, u in balls:
        det = Detection2D(id=track_id)
        det.bbox.center.position.x, det.bbox.center.position.y = u, 240.0
        det.bbox.size_x = det.bbox.size_y = BALL_PX
        det.results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id='ball', score=score))]
        msg.detections.append(det)
    return msg


def test_a_better_scored_ball_does_not_take_the_locked_one(ros):
    feeder = ros.node('feeder')
    info = feeder.create_publisher(CameraInfo, 'camera/camera_info', qos_profile_sensor_data)
    pub = feeder.create_publisher(Detection2DArray, 'detections', 10)
    balls = [('7', 0.6, 200.0)]  # first the left ball alone, then a better-scored one on the right too

    def tick():
        info.publish(camera_info())
        pub.publish(detections(feeder, balls))

    feeder.create_timer(0.05, tick)
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    ros.add(PlannerNode(context=ros.context, parameter_overrides=[
        Parameter('max_linear_accel', value=5.0), Parameter('max_angular_accel', value=10.0)]))
    cmds.wait(1, timeout=15.0, predicate=lambda m: m.angular.z > 0.05)
    balls = [('7', 0.6, 200.0), ('8', 0.95, 460.0)]
    cmds.clear()
    turns = [m.angular.z for m in cmds.wait(20, timeout=15.0)]
    assert all(w > 0.0 for w in turns[3:]), turns  # still turning left, toward track 7

    def locked(msg):
        return any(s.name.startswith('planner') and any(kv.key == 'target_track_id' and kv.value == '7'
                                                         for kv in s.values) for s in msg.status)
    diags.wait(1, timeout=10.0, predicate=locked)
