"""`physical-ai up --robot sim` sees in 3D: aligned depth, detections_3d near the 3D ground truth.

The shipped profile with the shipped detector, on a short run: the depth image has the colour
image's size, stamp and frame; detections_3d and sim/ground_truth_3d carry the colour image's
stamp and frame, so each 3D detection is matched with the ground truth of its frame (same class,
nearest centre), and the median centre error is asserted and printed.
"""

import math
import statistics

from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection3DArray

from physical_ai.testing import python_command

RELIABLE = QoSProfile(depth=100)
FRAMES = 12


def key(header):
    return header.stamp.sec, header.stamp.nanosec


def centre(det):
    p = det.bbox.center.position
    return p.x, p.y, p.z


def test_sim_profile_publishes_depth_and_3d_detections_near_the_truth(ros, spawn):
    runner = spawn(python_command('-m', 'physical_ai.cli', 'up', '--robot', 'sim',
                                  '--set', 'sim.camera_width=320', '--set', 'sim.camera_height=240'),
                   name='runner')
    colour = ros.collect(Image, '/camera/image_raw', qos_profile_sensor_data)
    depth = ros.collect(Image, '/camera/depth/image_raw', qos_profile_sensor_data)
    truths = ros.collect(Detection3DArray, '/sim/ground_truth_3d', RELIABLE)
    found = ros.collect(Detection3DArray, '/detections_3d', RELIABLE)

    found.wait(FRAMES, timeout=180, predicate=lambda m: len(m.detections) > 0)
    image, depth_image = colour.wait(1)[0], depth.wait(1)[0]
    assert (depth_image.width, depth_image.height) == (image.width, image.height) == (320, 240)
    assert depth_image.encoding == '32FC1' and depth_image.header.frame_id == image.header.frame_id
    stamps = {key(m.header) for m in colour.messages}
    assert any(key(m.header) in stamps for m in depth.messages)  # the same frames, the same stamps

    truth_of = {key(m.header): m for m in truths.messages}
    errors = []
    for msg in found.messages:
        truth = truth_of.get(key(msg.header))
        if truth is None:
            continue
        assert msg.header.frame_id == truth.header.frame_id == image.header.frame_id
        for det in msg.detections:
            name = det.results[0].hypothesis.class_id
            same = [t for t in truth.detections if t.results[0].hypothesis.class_id == name]
            if same and centre(det)[2] <= 5.0:
                errors.append(min(math.dist(centre(det), centre(t)) for t in same))
    assert len(errors) >= FRAMES, f'only {len(errors)} 3D detections matched with the ground truth'
    median = statistics.median(errors)
    print(f'\ndetections_3d vs sim/ground_truth_3d: {len(errors)} objects within 5 m, median centre error '
          f'{median:.3f} m, 90th percentile {sorted(errors)[int(0.9 * len(errors))]:.3f} m')
    assert median <= 0.10
    assert runner.stop() == 0
