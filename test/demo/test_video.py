"""The demo video: frames placed by stamp at the camera rate, boxes and text drawn, a readable MP4."""

import cv2
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

from physical_ai.core.image import array_to_image
from physical_ai.demo.video import FrameClock, Mp4Writer, VideoError, VideoRecorder, draw_overlay


def test_frame_clock_fills_gaps_and_skips_late_frames():
    clock = FrameClock(10.0)
    assert clock.slots(5.0) == (0, 1)
    assert clock.slots(5.1) == (0, 1)
    assert clock.slots(5.4) == (2, 1)  # frames at 5.2 and 5.3 were lost: repeat the previous one
    assert clock.slots(5.38) == (0, 0)  # late or duplicate
    assert clock.slots(60.0) == (20, 1)  # a long gap is filled for at most MAX_GAP seconds
    with pytest.raises(VideoError, match='frame rate must be > 0'):
        FrameClock(0.0)


def test_mp4_is_readable(tmp_path):
    writer = Mp4Writer(tmp_path / 'v.mp4', 15.0)
    for i in range(12):
        frame = np.full((120, 160, 3), i * 20, np.uint8)
        writer.write(draw_overlay(frame, ['planner: approaching', f'frame {i} ' + 'x' * 200]))
    writer.write(np.zeros((60, 80, 3), np.uint8))  # another size is resized, not refused
    writer.close()
    capture = cv2.VideoCapture(str(tmp_path / 'v.mp4'))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 13
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(15.0)
    ok, frame = capture.read()
    assert ok and frame.shape == (120, 160, 3)
    capture.release()


def test_recorder_draws_detections_on_camera_frames(ros, tmp_path):
    node = ros.node('video_test')
    video = VideoRecorder(node, tmp_path / 'demo.mp4', 10.0, lambda stamp: [f't={stamp:.1f}'], source='raw')
    images = ros.publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
    detections = ros.publisher(Detection2DArray, 'detections', 10)
    ros.wait_until(lambda: images.get_subscription_count() and detections.get_subscription_count(),
                   timeout=15.0, what='the video recorder to subscribe')
    det = Detection2D(results=[ObjectHypothesisWithPose()])
    det.results[0].hypothesis.class_id = 'ball'
    det.results[0].hypothesis.score = 0.9
    det.bbox.center.position.x, det.bbox.center.position.y = 80.0, 80.0
    det.bbox.size_x = det.bbox.size_y = 40.0
    detections.publish(Detection2DArray(detections=[det]))
    ros.wait_until(lambda: video._detections, timeout=10.0, what='the detections')
    for i in range(5):
        msg = array_to_image(np.full((120, 160, 3), 90, np.uint8), 'rgb8')
        msg.header.stamp.sec, msg.header.stamp.nanosec = 3, i * 100_000_000
        images.publish(msg)
        ros.wait_until(lambda n=i + 1: video.writer.frames >= n, timeout=10.0, what=f'frame {i}')
    video.close()
    capture = cv2.VideoCapture(str(tmp_path / 'demo.mp4'))
    ok, frame = capture.read()
    assert ok and capture.get(cv2.CAP_PROP_FRAME_COUNT) == 5
    # The box edge (drawn in the class colour) differs from the plain grey background.
    assert np.abs(frame[100, 60:100].astype(int) - 90).max() > 40
    assert np.abs(frame[80, 80].astype(int) - 90).max() < 20  # inside the box: untouched
    assert frame[-10:].mean() < 60 and frame[:10].mean() > 60  # the darkened overlay band at the bottom
