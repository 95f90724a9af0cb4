"""The camera node on real DDS: sources, rate cap, calibration, encodings, faults, QoS and processes."""

import os
from pathlib import Path
import signal
import sys
import threading

import cv2
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from physical_ai.core.errors import ConfigError
from physical_ai.core.image import image_to_array
from physical_ai.nodes.camera_node import CameraNode

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CALIBRATION = ROOT / 'config' / 'camera' / 'example_calibration.yaml'
DIAG_NAME = 'camera: capture'


def write_video(path, frames=10, size=(64, 48), fps=20.0):
    """Write an MJPG AVI whose frame i is gray with value 20 * i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (20 * i) % 256, np.uint8))
    writer.release()
    return path


def write_images(folder, colors, size=(32, 24)):
    """Write one lossless PNG per BGR colour, named in order."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, color in enumerate(colors):
        cv2.imwrite(str(folder / f'frame_{i:02d}.png'), np.full((size[1], size[0], 3), color, np.uint8))
    return folder


def start_camera(ros, **params):
    overrides = [Parameter(name, value=value) for name, value in params.items()]
    return ros.add(CameraNode(context=ros.context, parameter_overrides=overrides))


def diag_values(msg):
    status = msg.status[0]
    return {kv.key: kv.value for kv in status.values}


def is_camera(msg):
    return msg.status[0].name == DIAG_NAME


def test_video_file_at_a_capped_rate(ros, tmp_path):
    video = write_video(tmp_path / 'clip.avi', frames=30, fps=60.0)  # plays at 60 Hz, capped to 10
    images = ros.collect(Image, 'camera/image_raw')
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    start_camera(ros, source=str(video), fps=10.0)
    first = images.wait(1, timeout=15.0)[0]
    assert (first.width, first.height, first.encoding) == (64, 48, 'bgr8')
    gray = int(image_to_array(first)[0, 0, 0])
    assert min(abs(gray - 20 * i) for i in range(13)) <= 4  # a frame of the file (MJPG is lossy)
    images.clear()
    threading.Event().wait(2.0)
    count = len(images.messages)
    assert 8 <= count <= 26, f'{count} frames in 2 s with fps 10'  # generous: a cap, not a timing test
    values = diag_values(diags.wait(2, timeout=10.0, predicate=is_camera)[-1])
    assert int(values['frames_dropped']) > 0  # 60 Hz captured, 10 Hz published: the rest replaced
    assert values['state'] == 'streaming' and 'clip.avi' in values['source']


def test_image_directory_and_uncalibrated_camera_info(ros, tmp_path, capfd):
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    folder = write_images(tmp_path / 'shots', colors)
    images = ros.collect(Image, 'camera/image_raw')
    infos = ros.collect(CameraInfo, 'camera/camera_info')
    start_camera(ros, source=str(folder), fps=20.0)
    received = images.wait(9, timeout=15.0)
    seen = {tuple(image_to_array(m)[0, 0].tolist()) for m in received}
    assert seen == set(colors)
    info = infos.wait(1, timeout=5.0)[0]
    assert (info.width, info.height) == (32, 24)
    assert list(info.k) == [0.0] * 9  # uncalibrated: size only
    # Image and CameraInfo share the header.
    stamps = {(m.header.stamp.sec, m.header.stamp.nanosec): m.header.frame_id for m in received}
    matched = [i for i in infos.wait(3, timeout=5.0)
               if (i.header.stamp.sec, i.header.stamp.nanosec) in stamps]
    assert matched and all(i.header.frame_id == 'camera_optical_frame' for i in matched)
    assert capfd.readouterr().err.count('camera is uncalibrated') == 1  # said once, not per frame


def test_test_pattern_moves(ros):
    images = ros.collect(Image, 'camera/image_raw')
    start_camera(ros, width=160, height=120, fps=30.0)  # source defaults to test_pattern
    first = images.wait(1, timeout=15.0)[0]
    later = images.wait(10, timeout=15.0)[-1]
    assert (first.width, first.height) == (160, 120)
    a, b = image_to_array(first).astype(int), image_to_array(later).astype(int)
    assert np.abs(a - b).sum() > 1000


@pytest.mark.parametrize('width,height,scale', [(640, 480, 1.0), (320, 240, 0.5)])
def test_calibration_applied_and_scaled(ros, width, height, scale):
    infos = ros.collect(CameraInfo, 'camera/camera_info')
    start_camera(ros, width=width, height=height, fps=15.0, camera_info_url=f'file://{EXAMPLE_CALIBRATION}')
    info = infos.wait(1, timeout=15.0)[0]
    assert (info.width, info.height) == (width, height)
    assert info.distortion_model == 'plumb_bob'
    assert list(info.d) == pytest.approx([-0.0712, 0.1134, 0.0004, -0.0006, -0.0521])
    assert list(info.k) == pytest.approx([554.25 * scale, 0, 320.5 * scale, 0, 554.25 * scale, 240.5 * scale,
                                          0, 0, 1])
    assert list(info.p)[:3] == pytest.approx([548.91 * scale, 0, 320.8 * scale])
    assert list(info.r) == pytest.approx([1, 0, 0, 0, 1, 0, 0, 0, 1])


@pytest.mark.parametrize('encoding,expected', [
    ('bgr8', [10, 100, 200]),
    ('rgb8', [200, 100, 10]),
    ('mono8', round(0.114 * 10 + 0.587 * 100 + 0.299 * 200)),
])
def test_encoding_and_frame_id(ros, tmp_path, encoding, expected):
    folder = write_images(tmp_path / 'shots', [(10, 100, 200)])
    images = ros.collect(Image, 'camera/image_raw')
    start_camera(ros, source=str(folder), encoding=encoding, frame_id='front_camera_optical')
    msg = images.wait(1, timeout=15.0)[0]
    assert msg.encoding == encoding and msg.header.frame_id == 'front_camera_optical'
    pixels = image_to_array(msg)
    assert pixels.shape == ((24, 32, 3) if encoding != 'mono8' else (24, 32))
    assert pixels[5, 7].tolist() == expected


def test_run_time_parameter_changes(ros):
    images = ros.collect(Image, 'camera/image_raw')
    node = start_camera(ros, width=64, height=48)
    images.wait(1, timeout=15.0)
    descriptor = node.describe_parameter('fps')
    assert descriptor.description.startswith('Publish rate cap')
    assert descriptor.floating_point_range[0].to_value == 1000.0
    assert node.describe_parameter('source').read_only
    results = node.set_parameters([Parameter('encoding', value='mono8'), Parameter('frame_id', value='cam2')])
    assert all(r.successful for r in results)
    msg = images.wait(1, timeout=10.0, predicate=lambda m: m.encoding == 'mono8')[0]
    assert msg.header.frame_id == 'cam2'
    refused = node.set_parameters([Parameter('encoding', value='yuv422')])[0]
    assert not refused.successful and 'yuv422' in refused.reason
    assert not node.set_parameters([Parameter('source', value='0')])[0].successful  # read-only


def test_video_file_moved_away_and_back(ros, tmp_path):
    video = write_video(tmp_path / 'clip.avi', frames=6, fps=20.0)  # a 0.3 s loop
    images = ros.collect(Image, 'camera/image_raw')
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    start_camera(ros, source=str(video))
    images.wait(3, timeout=15.0)
    os.rename(video, tmp_path / 'away.avi')
    down = diags.wait(1, timeout=15.0,
                      predicate=lambda m: is_camera(m) and m.status[0].level == DiagnosticStatus.ERROR)[0]
    assert 'cannot open video file' in down.status[0].message
    assert diag_values(down)['state'] == 'reconnecting'
    images.clear()
    threading.Event().wait(1.0)
    assert images.messages == []  # nothing stale is published while the source is gone
    os.rename(tmp_path / 'away.avi', video)
    images.wait(3, timeout=20.0)  # resumed by itself
    back = diags.wait(1, timeout=15.0, predicate=lambda m: is_camera(m) and
                      diag_values(m)['reconnects'] == '1' and diag_values(m)['state'] == 'streaming')[0]
    values = diag_values(back)
    assert int(values['failures']) >= 1 and 'cannot open video file' in values['last_error']


def test_compressed_output(ros):
    compressed = ros.collect(CompressedImage, 'camera/image_raw/compressed')
    start_camera(ros, width=96, height=64, publish_compressed=True, jpeg_quality=90, frame_id='cam')
    msg = compressed.wait(1, timeout=15.0)[0]
    assert msg.format == 'bgr8; jpeg compressed bgr8' and msg.header.frame_id == 'cam'
    assert cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_COLOR).shape == (64, 96, 3)


def test_stamps_follow_the_node_clock_with_sim_time(ros):
    clock = ros.publisher(Clock, '/clock', 10)
    sim_now = Clock()
    sim_now.clock.sec = 1234
    timer = ros.node('clock_source').create_timer(0.05, lambda: clock.publish(sim_now))
    images = ros.collect(Image, 'camera/image_raw')
    start_camera(ros, width=64, height=48, use_sim_time=True)
    msg = images.wait(1, timeout=15.0, predicate=lambda m: m.header.stamp.sec != 0)[0]
    assert msg.header.stamp.sec == 1234
    timer.cancel()


def test_qos_is_sensor_data_and_overridable(ros):
    override = {'qos_overrides./camera/image_raw.publisher.reliability': 'reliable'}
    node = start_camera(ros, width=64, height=48, **override)
    helper = ros.node('qos_probe')
    ros.wait_until(lambda: helper.get_publishers_info_by_topic('/camera/camera_info'), what='publisher')
    image_qos = helper.get_publishers_info_by_topic('/camera/image_raw')[0].qos_profile
    info_qos = helper.get_publishers_info_by_topic('/camera/camera_info')[0].qos_profile
    assert image_qos.reliability == ReliabilityPolicy.RELIABLE
    assert info_qos.reliability == ReliabilityPolicy.BEST_EFFORT
    assert node._pub_info.qos_profile.depth == 1  # keep last 1 (the graph does not report depth)
    # rclpy applies overrides to the profile object in place: the shared one must stay untouched.
    assert qos_profile_sensor_data.reliability == ReliabilityPolicy.BEST_EFFORT


@pytest.mark.parametrize('params,message', [
    ({'source': 'video:/nope'}, "source 'video:/nope': unknown scheme video:; accepted: 'test_pattern'"),
    ({'camera_info_url': '/nope/cal.yaml'},
     "camera_info_url '/nope/cal.yaml': file /nope/cal.yaml does not exist"),
])
def test_bad_start_up_value_is_a_config_error(ros, params, message):
    with pytest.raises(ConfigError, match=message):
        CameraNode(context=ros.context,
                   parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


def node_executable():
    return str(Path(sys.executable).parent / 'camera_node')


def test_processes_exit_1_on_bad_start_up_values(spawn, tmp_path):
    broken = tmp_path / 'broken.yaml'
    broken.write_text('image_width: [640\n')
    cases = [
        (['-p', 'source:=video:/nope'], "source 'video:/nope': unknown scheme video:"),
        (['-p', 'source:=/nope/clip.mp4'], "source '/nope/clip.mp4': no such file, directory or device"),
        (['-p', 'source:=rtsp:/bad'], "source 'rtsp:/bad': a stream URL needs a host"),
        (['-p', 'camera_info_url:=/nope/cal.yaml'], 'file /nope/cal.yaml does not exist'),
        (['-p', f'camera_info_url:={broken}'], f'{broken} is not valid YAML at line'),
    ]
    procs = [(spawn([node_executable(), '--ros-args', *args], name=f'camera_bad{i}'), message)
             for i, (args, message) in enumerate(cases)]  # started together: start-up dominates
    for proc, message in procs:
        assert proc.wait(timeout=60.0) == 1, proc.output()
        out = proc.output()
        assert message in out and 'Traceback' not in out, out
    assert 'accepted:' in procs[0][0].output()


def test_process_publishes_in_its_namespace_and_stops_cleanly(ros, spawn):
    infos = ros.collect(CameraInfo, '/robot1/camera/camera_info')
    # package:// is looked up in the ament prefixes; `make setup` makes the venv one.
    installed = (Path(sys.prefix) / 'share/physical_ai/config').exists()
    url = 'package://physical_ai/config/camera/example_calibration.yaml' if installed else EXAMPLE_CALIBRATION
    proc = spawn([node_executable(), '--ros-args', '-r', '__ns:=/robot1', '-p', 'width:=320',
                  '-p', 'height:=240', '-p', f'camera_info_url:={url}'], name='camera')
    info = infos.wait(5, timeout=60.0)[-1]
    assert info.k[0] == pytest.approx(554.25 / 2)
    assert proc.stop(signal.SIGINT, timeout=15.0) == 0, proc.output()
    out = proc.output()
    warning = "frame size 320x240 differs from the calibration's 640x480: intrinsics scaled by 0.5 x 0.5"
    assert out.count(warning) == 1
    assert 'Traceback' not in out
