"""The 3D stage over real DDS: detections + depth -> detections_3d; bad input counted, reasons given."""

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import Detection2D, Detection2DArray, Detection3DArray, ObjectHypothesisWithPose

from physical_ai.core.image import array_to_image
from physical_ai.core.sim.camera import camera_info_msg, camera_intrinsics
from physical_ai.nodes.depth_node import DepthNode

RELIABLE = QoSProfile(depth=10)
INTRINSICS = camera_intrinsics(160, 120, 60.0)


def header(msg, sec, frame='camera_optical_frame'):
    msg.header.stamp.sec, msg.header.frame_id = sec, frame
    return msg


def depth_image(sec, encoding='32FC1', size=(120, 160)):
    depth = np.full(size, 6.0, dtype=np.float32)  # a wall
    depth[40:80, 60:100] = 2.0  # a box-shaped object 2 m away, in front of it
    pixels = depth if encoding == '32FC1' else (depth * 1000).astype(np.uint16)
    return header(array_to_image(pixels, encoding), sec)


def detections(sec, boxes=((80.0, 60.0, 50.0, 50.0),), det_id='7'):
    msg = header(Detection2DArray(), sec)
    for cx, cy, w, h in boxes:
        det = Detection2D(id=det_id)
        det.bbox.center.position.x, det.bbox.center.position.y = cx, cy
        det.bbox.size_x, det.bbox.size_y = w, h
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id, hyp.hypothesis.score = 'ball', 0.9
        det.results.append(hyp)
        msg.detections.append(det)
    return msg


def publishers(ros):
    return (ros.publisher(Image, 'camera/depth/image_raw', qos_profile_sensor_data),
            ros.publisher(CameraInfo, 'camera/depth/camera_info', qos_profile_sensor_data),
            ros.publisher(Detection2DArray, 'detections', RELIABLE))


def wait_matched(ros, pub):
    ros.wait_until(lambda: pub.get_subscription_count() > 0, timeout=10.0)


def test_detections_and_depth_of_one_stamp_give_a_3d_detection(ros):
    out = ros.collect(Detection3DArray, 'detections_3d', RELIABLE)
    node = ros.add(DepthNode(context=ros.context))
    depth_pub, info_pub, det_pub = publishers(ros)
    for pub in (depth_pub, info_pub, det_pub):
        wait_matched(ros, pub)
    info = header(camera_info_msg(INTRINSICS), 5)
    for sec in (5, 6, 7):
        info_pub.publish(header(info, sec))
        depth_pub.publish(depth_image(sec, '16UC1' if sec == 7 else '32FC1'))
        ros.wait_until(lambda s=sec: node.counts['depth_images'] >= s - 4, timeout=10.0)
        det_pub.publish(detections(sec))
    msgs = out.wait(3, timeout=10.0)
    for sec, msg in zip((5, 6, 7), msgs, strict=True):
        assert msg.header.stamp.sec == sec and msg.header.frame_id == 'camera_optical_frame'
        det = msg.detections[0]
        assert det.id == '7' and det.results[0].hypothesis.class_id == 'ball'
        p = det.bbox.center.position
        # Front surface at 2 m, the box's smaller side (50 px at 2 m) as its depth extent: half behind.
        extent = 50 / INTRINSICS.fx * 2.0
        assert p.z == pytest.approx(2.0 + extent / 2, abs=0.01) and abs(p.x) < 0.01 and abs(p.y) < 0.01
        assert det.results[0].pose.pose.position.z == p.z


def test_bad_input_is_counted_and_the_diagnostics_say_why(ros):
    diagnostics = ros.collect(DiagnosticArray, '/diagnostics', RELIABLE)
    out = ros.collect(Detection3DArray, 'detections_3d', RELIABLE)
    node = ros.add(DepthNode(context=ros.context, parameter_overrides=[Parameter('sync_slop', value=0.01)]))
    depth_pub, info_pub, det_pub = publishers(ros)
    for pub in (depth_pub, info_pub, det_pub):
        wait_matched(ros, pub)
    # Colour on the depth topic, a depth image larger than its camera_info, a truncated image.
    depth_pub.publish(header(array_to_image(np.zeros((120, 160, 3), np.uint8), 'rgb8'), 1))
    ros.wait_until(lambda: node.counts['bad_encoding'] == 1, timeout=10.0)
    info_pub.publish(header(camera_info_msg(INTRINSICS), 1))
    ros.wait_until(lambda: node.counts['camera_infos'] == 1, timeout=10.0)
    depth_pub.publish(depth_image(2, size=(240, 320)))
    ros.wait_until(lambda: node.counts['depth_images'] == 1, timeout=10.0)
    det_pub.publish(detections(2))
    ros.wait_until(lambda: node.counts['size_mismatch'] == 1, timeout=10.0)
    broken = depth_image(3)
    broken.data = broken.data[:100]
    depth_pub.publish(broken)
    ros.wait_until(lambda: node.counts['malformed_images'] == 1, timeout=10.0)
    # Stamps from another clock: never within the slop.
    depth_pub.publish(depth_image(10))
    ros.wait_until(lambda: node.counts['depth_images'] == 2, timeout=10.0)
    det_pub.publish(detections(9, boxes=((80.0, 60.0, float('nan'), 50.0),)))
    depth_pub.publish(depth_image(11))
    ros.wait_until(lambda: node.sync.counters.unmatched == 1, timeout=10.0)
    diagnostics.wait(1, timeout=10.0, predicate=lambda m: any(
        'without a depth image within sync_slop' in s.message for s in m.status))
    assert out.messages == [] and node.counts['callback_errors'] == 0
    # Still working: a good pair goes through.
    depth_pub.publish(depth_image(12))
    ros.wait_until(lambda: node.counts['depth_images'] == 4, timeout=10.0)
    det_pub.publish(detections(12))
    assert out.wait(1, timeout=10.0)[0].header.stamp.sec == 12
    # An oversized detections message is dropped unread.
    assert node.set_parameters([Parameter('max_message_bytes', value=1024)])[0].successful
    det_pub.publish(detections(13, boxes=[(80.0, 60.0, 10.0, 10.0)] * 50))
    ros.wait_until(lambda: node.counts['oversized'] == 1, timeout=10.0)
    assert node.counts['detections'] == 3 and node.counts['callback_errors'] == 0


def test_target_frame_through_tf_static(ros):
    from rclpy.qos import DurabilityPolicy
    from tf2_msgs.msg import TFMessage

    from physical_ai.core.frames import mount_transforms, static_tf_msg

    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    ros.publisher(TFMessage, '/tf_static', latched).publish(
        static_tf_msg(mount_transforms((0.17, 0.0, 0.3), (0.0, 0.0, 0.0))))
    out = ros.collect(Detection3DArray, 'detections_3d', RELIABLE)
    node = ros.add(DepthNode(context=ros.context, parameter_overrides=[
        Parameter('target_frame', value='base_link')]))
    depth_pub, info_pub, det_pub = publishers(ros)
    for pub in (depth_pub, info_pub, det_pub):
        wait_matched(ros, pub)
    ros.wait_until(lambda: 'camera_optical_frame' in node.tf.frames(), timeout=10.0)
    info_pub.publish(header(camera_info_msg(INTRINSICS), 3))
    ros.wait_until(lambda: node.camera is not None, timeout=10.0)
    depth_pub.publish(depth_image(3))
    ros.wait_until(lambda: node.counts['depth_images'] == 1, timeout=10.0)
    det_pub.publish(detections(3))
    msg = out.wait(1, timeout=10.0)[0]
    assert msg.header.frame_id == 'base_link'
    p = msg.detections[0].bbox.center.position
    extent = 50 / INTRINSICS.fx * 2.0
    # Optical z forward -> base x forward, from the mount 0.17 m ahead and 0.3 m up.
    assert (p.x, p.y, p.z) == pytest.approx((0.17 + 2.0 + extent / 2, 0.0, 0.3), abs=0.01)


def test_process_reports_missing_depth_and_stops_cleanly(ros, spawn):
    from pathlib import Path
    import sys

    diagnostics = ros.collect(DiagnosticArray, '/diagnostics', RELIABLE)
    bad = spawn([str(Path(sys.executable).parent / 'depth_node'), '--ros-args', '-p', 'class_depths:=[ball]'],
                name='depth_bad')
    node = spawn([str(Path(sys.executable).parent / 'depth_node')], name='depth')
    assert bad.wait(timeout=30.0) == 1 and 'class_depths' in bad.output() and 'Traceback' not in bad.output()
    diagnostics.wait(1, timeout=30.0, predicate=lambda m: any(
        s.name.startswith('depth') and 'no depth image on /camera/depth/image_raw' in s.message
        for s in m.status))
    assert node.stop(timeout=15.0) == 0, node.output()
