"""Frames of ROS 2 MCAP recordings (written by the project's recorder) into YOLO datasets."""

import cv2
import numpy as np
import pytest
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage

from physical_ai.cli import main
from physical_ai.core.datasets import DatasetError, check_dataset, load_dataset
from physical_ai.core.datasets.mcap_images import read_frames
from physical_ai.core.detection.samples import save_physical_ai
from physical_ai.core.image import array_to_image
from physical_ai.demo.recorder import McapFile


def picture(k):
    """Return a dark 160x120 BGR frame with one red rectangle that moves with k."""
    image = np.full((120, 160, 3), 20, np.uint8)
    image[30:70, 10 + 10 * k:50 + 10 * k] = (0, 0, 255)
    return image


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / 'run.mcap'
    mcap = McapFile(path)
    mcap.add_channel('/robot/camera/image_raw', 'sensor_msgs/msg/Image')
    mcap.add_channel('/robot/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage')
    for k in range(6):
        msg = array_to_image(cv2.cvtColor(picture(k), cv2.COLOR_BGR2RGB), 'rgb8')
        msg.header.stamp.sec = 100 + k
        mcap.write('/robot/camera/image_raw', serialize_message(msg), log_time_ns=(100 + k) * 10**9)
        packed = CompressedImage(format='png', data=cv2.imencode('.png', picture(k))[1].tobytes())
        packed.header.stamp.sec = 100 + k
        mcap.write('/robot/camera/image_raw/compressed', serialize_message(packed),
                   log_time_ns=(100 + k) * 10**9)
    mcap.close()
    return path


def test_raw_and_compressed_frames_decode_to_the_recorded_pixels(recording):
    raw = list(read_frames(recording, 'camera/image_raw'))
    packed = list(read_frames(recording, '/robot/camera/image_raw/compressed', every=2))
    assert [f.stamp_ns // 10**9 for f in raw] == [100, 101, 102, 103, 104, 105]
    assert [f.stamp_ns // 10**9 for f in packed] == [100, 102, 104]
    assert all(np.array_equal(f.image, picture(k)) for k, f in enumerate(raw))
    assert all(np.array_equal(f.image, picture(2 * k)) for k, f in enumerate(packed))
    assert raw[0].topic == '/robot/camera/image_raw'


def test_unknown_topic_lists_the_image_topics(recording, tmp_path):
    with pytest.raises(DatasetError, match=r"no image topic 'depth'; image topics in the file: "
                       r'/robot/camera/image_raw \(Image\), /robot/camera/image_raw/compressed'):
        list(read_frames(recording, 'depth'))
    with pytest.raises(DatasetError, match='does not exist; expected an MCAP file'):
        list(read_frames(tmp_path / 'none.mcap', 'camera/image_raw'))
    (tmp_path / 'bad.mcap').write_bytes(b'garbage')
    with pytest.raises(DatasetError, match='cannot be read as MCAP'):
        list(read_frames(tmp_path / 'bad.mcap', 'camera/image_raw'))


def test_extract_with_prelabels_gives_a_dataset_check_accepts(recording, tmp_path, capsys):
    model = tmp_path / 'bright.pt'
    save_physical_ai(model, names=('red', 'green', 'blue'), input_size=(240, 320))
    out = tmp_path / 'set'
    assert main(['dataset', 'extract', str(recording), '--topic', 'camera/image_raw', '--out', str(out),
                 '--prelabel', str(model), '--every', '2', '--val-every', '3']) == 0
    assert 'wrote 3 frames (train 2, val 1)' in capsys.readouterr().out
    assert main(['dataset', 'check', str(out)]) == 0
    assert 'ok: no problems found' in capsys.readouterr().out
    dataset = load_dataset(out)
    assert dataset.names == ('red', 'green', 'blue')
    (image, boxes, classes), = dataset.samples('val')
    assert classes.tolist() == [0]
    np.testing.assert_allclose(boxes[0], [50, 30, 90, 70], atol=1.0)  # frame 4 of the recording
    assert check_dataset(out).counts['train'] == [2, 0, 0]


def test_extract_errors_are_one_line(recording, tmp_path, capsys):
    assert main(['dataset', 'extract', str(recording), '--topic', 'nope', '--out', str(tmp_path / 'x')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1 and "no image topic 'nope'" in err
    assert main(['dataset', 'check', str(tmp_path / 'missing')]) == 1
    assert 'does not exist' in capsys.readouterr().err
