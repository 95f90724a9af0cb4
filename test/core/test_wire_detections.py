"""Detection2DArray serialized by hand: rclpy reads back the message built the typed way."""

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from vision_msgs.msg import Detection2DArray

from physical_ai.core.wire_detections import detections_message, serialize_detections, serializer_matches


def arguments(count, frame_id='camera_optical_frame', names=('person', 'ball', ''), ids=('', '7', '1234')):
    rng = np.random.default_rng(count)
    x1y1 = rng.uniform(0, 600, (count, 2))
    boxes = np.concatenate([x1y1, x1y1 + rng.uniform(1, 50, (count, 2))], axis=1)
    return (12, 999_999_999, frame_id, boxes.tolist(), rng.uniform(0, 1, count).tolist(),
            [names[i % len(names)] for i in range(count)], [ids[i % len(ids)] for i in range(count)])


# frame_id, class and id lengths 0..4 move every later field across all alignments; non-ASCII counts bytes.
@pytest.mark.parametrize('frame_id', ['', 'a', 'ab', 'abc', 'abcd', 'cámara'])
@pytest.mark.parametrize('count', [0, 1, 2, 5])
def test_rclpy_reads_back_the_typed_message(frame_id, count):
    args = arguments(count, frame_id, names=('a', 'ab', 'abc', 'abcd', 'señal'), ids=('', 'x', '12'))
    data = serialize_detections(*args)
    expected = detections_message(*args)
    back = deserialize_message(data, Detection2DArray)
    assert back == expected
    assert len(data) == len(serialize_message(expected))
    assert data[:4] == b'\x00\x01\x00\x00'  # plain CDR, little endian


def test_fields_are_the_detector_output():
    (x1, y1, x2, y2), = [[10.0, 20.0, 50.0, 80.0]]
    data = serialize_detections(3, 4, 'cam', [(x1, y1, x2, y2)], [0.75], ['person'], ['9'])
    det, = deserialize_message(data, Detection2DArray).detections
    assert (det.header.stamp.sec, det.header.stamp.nanosec, det.header.frame_id) == (3, 4, 'cam')
    centre = det.bbox.center
    assert (centre.position.x, centre.position.y, centre.theta) == (30.0, 50.0, 0.0)
    assert (det.bbox.size_x, det.bbox.size_y, det.id) == (40.0, 60.0, '9')
    result, = det.results
    assert (result.hypothesis.class_id, result.hypothesis.score) == ('person', 0.75)
    assert result.pose.pose.orientation.w == 1.0 and not any(result.pose.covariance)


def test_mismatched_lengths_are_refused():
    args = list(arguments(3))
    args[4] = args[4][:2]  # one score fewer than boxes
    with pytest.raises(ValueError):
        serialize_detections(*args)


def test_the_start_up_check_passes_for_the_installed_messages():
    assert serializer_matches()
