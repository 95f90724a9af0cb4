"""The inference node over real DDS with real TorchScript files: outputs, parameters, lifecycle, bad input."""

import hashlib
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image
import torch
from vision_msgs.msg import Detection2DArray, LabelInfo

from physical_ai.core.detection import samples
from physical_ai.core.image import array_to_image
from physical_ai.nodes.inference_node import InferenceNode
from physical_ai.testing import python_command

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error on a machine without CUDA')


def scene(width=640, height=360, box=(100, 50, 300, 150), color=(0, 0, 255), stamp=(1234, 5678)):
    """Return a bgr8 Image: dark, one filled rectangle [x1, x2) x [y1, y2), a known header."""
    pixels = np.full((height, width, 3), 20, np.uint8)
    if box is not None:
        x1, y1, x2, y2 = box
        pixels[y1:y2, x1:x2] = color
    msg = array_to_image(pixels, 'bgr8')
    msg.header.frame_id = 'camera_optical_frame'
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    return msg


def start(ros, model, name='inference', **params):
    overrides = [Parameter('model_path', value=str(model))]
    overrides += [Parameter(key, value=value) for key, value in params.items()]
    return ros.add(InferenceNode(name, context=ros.context, parameter_overrides=overrides))


def feed(pub, msg, collector, count=1, timeout=20.0, predicate=None):
    """Publish `msg` (best effort) until `count` matching results arrived on `collector`."""
    deadline = time.monotonic() + timeout
    while True:
        pub.publish(msg)
        try:
            return collector.wait(count, 0.25, predicate)
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def status_of(ros, node_name, predicate=lambda s: True, timeout=10.0):
    """Return the next DiagnosticStatus of the node that satisfies `predicate`."""
    def match(msg):
        return any(s.name == f'{node_name}: inference' and predicate(s) for s in msg.status)
    msg = ros.wait_for(DiagnosticArray, '/diagnostics', qos=10, timeout=timeout, predicate=match)[0]
    return next(s for s in msg.status if s.name == f'{node_name}: inference' and predicate(s))


def values(status):
    return {kv.key: kv.value for kv in status.values}


def boxes_of(msg):
    return [(d.results[0].hypothesis.class_id, round(d.results[0].hypothesis.score, 3),
             d.bbox.center.position.x, d.bbox.center.position.y, d.bbox.size_x, d.bbox.size_y)
            for d in msg.detections]


@pytest.fixture
def yolov8(tmp_path):
    path = tmp_path / 'yolo.torchscript'
    samples.save_yolov8(path, imgsz=(320, 320))
    return path


@pytest.fixture
def camera(ros):
    return ros.publisher(Image, 'camera/image_raw', qos_profile_sensor_data)


def test_yolov8_box_in_image_pixels_with_the_image_header(ros, yolov8, camera):
    node = start(ros, yolov8)
    assert not node.failed
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    image = scene()
    msg = feed(camera, image, detections)[0]
    assert msg.header == image.header
    assert all(d.header == image.header for d in msg.detections)
    (red, red_score, cx, cy, w, h), (green, green_score, *green_box) = boxes_of(msg)
    assert (red, red_score, green, green_score) == ('red', 0.9, 'green', 0.5)
    assert [cx, cy, w, h] == pytest.approx([200, 100, 200, 100], abs=1.0)
    assert green_box == pytest.approx([400, 100, 200, 100], abs=1.0)


def test_nothing_seen_is_an_empty_array_with_the_header(ros, yolov8, camera):
    start(ros, yolov8)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    image = scene(box=None, stamp=(77, 88))
    msg = feed(camera, image, detections)[0]
    assert msg.detections == [] and msg.header == image.header


def test_stamp_before_the_epoch_is_still_a_frame(ros, yolov8, camera):
    start(ros, yolov8)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    image = scene(stamp=(-5, 0))
    msg = feed(camera, image, detections)[0]
    assert msg.header == image.header and len(msg.detections) == 2


def test_torchvision_model_with_a_labels_file(ros, tmp_path, camera):
    path = tmp_path / 'tv.pt'
    samples.save_torchvision(path)
    labels = tmp_path / 'labels.txt'
    labels.write_text('__background__\nred\ngreen\nblue\n')
    start(ros, path, labels=[str(labels)])
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    msg = feed(camera, scene(box=(101, 47, 333, 211), color=(0, 255, 0)), detections)[0]
    assert boxes_of(msg) == [('green', 0.8, 217.0, 129.0, 232.0, 164.0)]


def test_physical_ai_model(ros, tmp_path, camera):
    path = tmp_path / 'own.pt'
    samples.save_physical_ai(path, input_size=(256, 320))
    start(ros, path)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    msg = feed(camera, scene(color=(255, 0, 0)), detections)[0]
    ((name, score, *box),) = boxes_of(msg)
    assert (name, score) == ('blue', 0.7) and box == pytest.approx([200, 100, 200, 100], abs=1.0)


def test_thresholds_and_classes_change_at_run_time(ros, yolov8, camera):
    start(ros, yolov8)
    client = AsyncParameterClient(ros.node('param_client'), 'inference')
    assert client.wait_for_services(timeout_sec=10.0)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    image = scene()

    def names():
        detections.clear()
        return [d.results[0].hypothesis.class_id for d in feed(camera, image, detections)[0].detections]

    def set_params(**changes):
        params = [Parameter(k, Parameter.Type.STRING_ARRAY, v) if k == 'classes' else Parameter(k, value=v)
                  for k, v in changes.items()]
        future = client.set_parameters(params)
        ros.wait_until(future.done, what='set_parameters reply')
        return future.result().results

    assert names() == ['red', 'green']
    assert all(r.successful for r in set_params(score_threshold=0.7))
    assert names() == ['red']
    assert all(r.successful for r in set_params(score_threshold=0.25, classes=['green']))
    assert names() == ['green']
    rejected = set_params(classes=['dog'])[0]
    assert not rejected.successful and "'dog' is not a class of the model" in rejected.reason
    assert all(r.successful for r in set_params(classes=[], max_detections=1))
    assert names() == ['red']
    read_only = set_params(model_path='/elsewhere.pt')[0]
    assert not read_only.successful


def test_labels_reach_late_subscribers(ros, yolov8):
    start(ros, yolov8)
    msg = ros.wait_for(LabelInfo, 'detections/labels', qos=LATCHED)[0]
    assert [(c.class_id, c.class_name) for c in msg.class_map] == [(0, 'red'), (1, 'green'), (2, 'blue')]
    assert msg.threshold == pytest.approx(0.25)


def test_annotated_image_for_subscribers(ros, yolov8, camera):
    start(ros, yolov8)
    annotated = ros.collect(Image, 'detections/image')
    image = scene()
    drawn = feed(camera, image, annotated)[0]
    assert drawn.header == image.header and (drawn.width, drawn.height, drawn.encoding) == (640, 360, 'bgr8')
    pixels = np.frombuffer(drawn.data, np.uint8).reshape(360, 640, 3)
    assert (pixels[100, 97:103] != 20).any() and (pixels[300:] == 20).all()


def test_no_annotated_image_when_disabled(ros, yolov8, camera):
    start(ros, yolov8, publish_annotated=False)
    annotated = ros.collect(Image, 'detections/image')
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    observer = ros.node('observer')
    ros.wait_until(lambda: observer.count_publishers('detections/image') > 0, what='annotated publisher')
    feed(camera, scene(), detections, count=3)
    assert annotated.messages == []


def test_malformed_images_are_counted_and_the_node_keeps_running(ros, yolov8, camera):
    start(ros, yolov8)
    short = scene()
    short.data = short.data[:-1]
    mono16 = Image(height=2, width=2, encoding='mono16', step=4, data=bytes(8))
    empty = Image(height=0, width=0, encoding='bgr8', step=0)
    diagnostics = ros.collect(DiagnosticArray, '/diagnostics', qos=10)

    def next_status():
        seen = len(diagnostics.messages)
        msg = diagnostics.wait(seen + 1, timeout=10.0)[-1]
        return next((s for s in msg.status if s.name == 'inference: inference'), None)

    for count, bad in enumerate((short, mono16, empty), start=1):
        deadline = time.monotonic() + 20
        while True:
            camera.publish(bad)
            status = next_status()
            if status is not None and int(values(status)['malformed_frames']) >= count:
                break
            assert time.monotonic() < deadline, f'malformed image {count} was not counted'
    # the status that first counts a frame covers the second in which it was dropped
    assert status.level == DiagnosticStatus.WARN and 'malformed' in status.message
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    assert len(feed(camera, scene(), detections)[0].detections) == 2


def test_nan_and_inf_outputs_are_dropped(ros, tmp_path, camera):
    path = tmp_path / 'poison.pt'
    samples.save_yolov8(path, poison=True)
    start(ros, path, score_threshold=0.05)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    msg = feed(camera, scene(), detections)[0]
    assert [name for name, *_ in boxes_of(msg)] == ['red', 'green']


def test_only_the_newest_frame_is_processed(ros, tmp_path, camera):
    path = tmp_path / 'slow.pt'
    samples.save_yolov8(path, work=800)  # longer per frame than the burst below takes to publish
    start(ros, path)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    feed(camera, scene(stamp=(1, 0)), detections)
    for i in range(2, 21):
        camera.publish(scene(stamp=(i, 0)))
    last = scene(stamp=(21, 0))
    feed(camera, last, detections, predicate=lambda m: m.header.stamp.sec == 21)
    stamps = [m.header.stamp.sec for m in detections.messages]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) < 21
    # Skipped frames never reach Python (keep last 1, taken on demand) but are all counted, from the
    # publisher's sequence numbers: every frame after the first is processed or dropped.
    status = status_of(ros, 'inference', lambda s: int(values(s)['processed_frames']) >= 2)
    processed, dropped = int(values(status)['processed_frames']), int(values(status)['dropped_frames'])
    assert processed < 21 and dropped >= 1
    assert processed + dropped >= 21, (processed, dropped)


def test_two_streams_publish_every_frame_they_take_in_image_order_with_one_track(ros, tmp_path, camera):
    path = tmp_path / 'slow.pt'
    samples.save_yolov8(path, work=200)
    start(ros, path, streams=2, threads=2)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    feed(camera, scene(stamp=(1, 0)), detections)
    for i in range(2, 40):  # faster than two streams take them: the two run frames at once
        camera.publish(scene(stamp=(i, 0), box=(100 + 2 * i, 50, 300 + 2 * i, 150)))
        time.sleep(0.01)
    feed(camera, scene(stamp=(40, 0)), detections, predicate=lambda m: m.header.stamp.sec == 40)
    stamps = [m.header.stamp.sec for m in detections.messages]
    # In the order of the images, each frame once (the first and last are published until answered).
    assert stamps == sorted(stamps) and all(stamps.count(i) == 1 for i in set(stamps) - {1, 40}), stamps
    red = [d.id for m in detections.messages for d in m.detections
           if d.results[0].hypothesis.class_id == 'red']
    assert red[1:] and len(set(red[1:])) == 1 and red[-1], red  # one track across both streams' frames
    status = status_of(ros, 'inference', lambda s: int(values(s)['processed_frames']) >= len(stamps))
    figures = values(status)
    assert figures['streams'] == '2' and figures['failed_frames'] == '0'
    assert int(figures['processed_frames']) + int(figures['dropped_frames']) >= 40


@pytest.mark.parametrize('case', ['missing', 'garbage', 'sha256', pytest.param('cuda', marks=NO_CUDA)])
def test_bad_model_fails_configure_with_one_clear_reason(ros, tmp_path, case):
    path = tmp_path / 'model.pt'
    params = {}
    if case == 'garbage':
        path.write_bytes(b'\x00not torchscript' * 64)
    elif case in ('sha256', 'cuda'):
        samples.save_yolov8(path)
        params = {'model_sha256': '0' * 64} if case == 'sha256' else {'device': 'cuda:0'}
    node = start(ros, path, name=f'inference_{case}', **params)
    assert node.failed
    status = status_of(ros, f'inference_{case}')
    assert status.level == DiagnosticStatus.ERROR
    expected = {'missing': f'{path} does not exist', 'garbage': f'{path} is not a TorchScript file',
                'sha256': f'{path} has sha256', 'cuda': "device 'cuda:0' requested but CUDA is not available"}
    assert expected[case] in status.message and '\n' not in status.message


def call(ros, client, request):
    assert client.wait_for_service(timeout_sec=10.0)
    future = client.call_async(request)
    ros.wait_until(future.done, what=f'{client.srv_name} reply')
    return future.result()


def change(ros, client, transition):
    return call(ros, client, ChangeState.Request(transition=Transition(id=transition))).success


def test_lifecycle_without_autostart(ros, yolov8, tmp_path, camera):
    start(ros, yolov8, autostart=False)
    helper = ros.node('lifecycle_client')
    get_state = helper.create_client(GetState, 'inference/get_state')
    change_state = helper.create_client(ChangeState, 'inference/change_state')
    assert call(ros, get_state, GetState.Request()).current_state.label == 'unconfigured'
    assert change(ros, change_state, Transition.TRANSITION_CONFIGURE)
    assert change(ros, change_state, Transition.TRANSITION_ACTIVATE)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    assert len(feed(camera, scene(), detections)[0].detections) == 2
    assert change(ros, change_state, Transition.TRANSITION_DEACTIVATE)
    assert change(ros, change_state, Transition.TRANSITION_CLEANUP)
    assert call(ros, get_state, GetState.Request()).current_state.label == 'unconfigured'
    assert change(ros, change_state, Transition.TRANSITION_CONFIGURE)
    assert change(ros, change_state, Transition.TRANSITION_ACTIVATE)
    detections.clear()
    assert len(feed(camera, scene(), detections)[0].detections) == 2


def test_failed_configure_without_autostart_stays_unconfigured(ros, tmp_path):
    node = start(ros, tmp_path / 'absent.pt', autostart=False)
    helper = ros.node('lifecycle_client')
    change_state = helper.create_client(ChangeState, 'inference/change_state')
    get_state = helper.create_client(GetState, 'inference/get_state')
    assert not change(ros, change_state, Transition.TRANSITION_CONFIGURE)
    assert call(ros, get_state, GetState.Request()).current_state.label == 'unconfigured'
    assert not node.failed


def test_node_process(spawn, ros, yolov8, tmp_path, camera):
    good = spawn(python_command('-m', 'physical_ai.nodes.inference_node', '--ros-args',
                                '-p', f'model_path:={yolov8}', '-p', f'model_sha256:={sha256(yolov8)}'),
                 name='inference')
    garbage = tmp_path / 'garbage.pt'
    garbage.write_bytes(b'not a model')
    bad = spawn(python_command('-m', 'physical_ai.nodes.inference_node', '--ros-args',
                               '-r', '__node:=inference_bad', '-p', f'model_path:={garbage}'), name='bad')
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    assert len(feed(camera, scene(), detections, timeout=60)[0].detections) == 2, good.output()
    assert bad.wait(timeout=60) == 1
    lines = [line for line in bad.output().splitlines() if line.strip()]
    failed = [line for line in lines if 'configure failed' in line]
    assert len(failed) == 1 and str(garbage) in failed[0], bad.output()
    assert 'Traceback' not in bad.output()
    assert good.stop() == 0, good.output()


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_track_ids_persist_across_frames_and_tracking_turns_off(ros, yolov8, camera):
    start(ros, yolov8)
    client = AsyncParameterClient(ros.node('param_client'), 'inference')
    assert client.wait_for_services(timeout_sec=10.0)
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    ids = []
    for frame in range(4):
        detections.clear()
        msg = feed(camera, scene(stamp=(100, frame * 50_000_000)), detections)[0]
        ids.append({d.results[0].hypothesis.class_id: d.id for d in msg.detections})
    assert ids[0]['red'] and ids[0]['green'] and ids[0]['red'] != ids[0]['green']
    assert all(frame_ids == ids[0] for frame_ids in ids), ids
    status = status_of(ros, 'inference', lambda s: values(s).get('processed_frames', '0') != '0')
    figures = values(status)
    assert figures['tracking'] == 'True'
    print(f'tracking {float(figures["tracking_ms_mean"]):.3f} ms per frame, '
          f'{float(figures["tracking_to_inference"]):.4f} of inference')
    assert float(figures['tracking_ms_mean']) > 0.0

    future = client.set_parameters([Parameter('track_low_score', value=0.9)])  # above track_high_score
    ros.wait_until(future.done, what='set_parameters reply')
    rejected = future.result().results[0]
    assert not rejected.successful and 'track_low_score' in rejected.reason

    future = client.set_parameters([Parameter('tracking', value=False)])
    ros.wait_until(future.done, what='set_parameters reply')
    assert future.result().results[0].successful
    detections.clear()
    msg = feed(camera, scene(stamp=(101, 0)), detections)[0]
    assert [d.id for d in msg.detections] == ['', '']


@pytest.mark.parametrize('frame_id', ['', 'c', 'cam', 'camera_optical_frame'])
def test_serialized_frames_keep_header_and_padded_rows(ros, yolov8, camera, frame_id):
    # The node subscribes to serialized images and reads the header and pixels from the bytes:
    # every alignment of the fields after frame_id, and rows padded beyond width * 3.
    start(ros, yolov8, name=f'inference_{len(frame_id)}')
    detections = ros.collect(Detection2DArray, 'detections', RELIABLE)
    plain = scene(stamp=(42, 7))
    pixels = np.frombuffer(plain.data, np.uint8).reshape(360, 640 * 3)
    padded = np.full((360, 640 * 3 + 5), 255, np.uint8)  # white padding: seen as pixels, it would be a box
    padded[:, :640 * 3] = pixels
    msg = Image(height=360, width=640, encoding='bgr8', step=640 * 3 + 5, data=padded.tobytes())
    msg.header.stamp.sec, msg.header.stamp.nanosec = 42, 7
    msg.header.frame_id = frame_id
    out = feed(camera, msg, detections)[0]
    assert out.header == msg.header and all(d.header == msg.header for d in out.detections)
    (red, _, cx, cy, w, h), _green = boxes_of(out)
    assert red == 'red' and [cx, cy, w, h] == pytest.approx([200, 100, 200, 100], abs=1.0)


def assert_a_second_node_gives_the_same_boxes(ros, tmp_path, camera, name, **params):
    """Run a YOLOv8n-cost graph in the default node and in node `name` with `params`; compare boxes."""
    path = tmp_path / 'yolov8n_cost.pt'
    samples.save_yolov8n_cost(path, imgsz=(96, 128))
    options = {'score_threshold': 0.02, 'max_detections': 10, 'threads': 1}
    start(ros, path, **options)
    overrides = [Parameter(k, value=v) for k, v in {'model_path': str(path), **options, **params}.items()]
    ros.add(InferenceNode(name, context=ros.context, parameter_overrides=overrides,
                          cli_args=['--ros-args', '-r', f'detections:=detections_{name}']))
    reference = ros.collect(Detection2DArray, 'detections', RELIABLE)
    other = ros.collect(Detection2DArray, f'detections_{name}', RELIABLE)
    image = scene(stamp=(5, 0))
    expected = boxes_of(feed(camera, image, reference)[0])
    got = boxes_of(feed(camera, image, other)[0])
    assert expected and [b[0] for b in got] == [b[0] for b in expected]
    assert [b[1:] for b in got] == [pytest.approx(b[1:], abs=0.05) for b in expected]


def processed_status(ros, name):
    return values(status_of(ros, name, lambda s: int(values(s)['processed_frames']) >= 1, timeout=20))


def test_openvino_backend_gives_the_detections_of_torch(ros, tmp_path, camera):
    cache = tmp_path / 'cache'
    assert_a_second_node_gives_the_same_boxes(ros, tmp_path, camera, 'inference_ov', backend='openvino',
                                              backend_cache=str(cache))
    assert list(cache.glob('*-openvino-*/model.xml'))
    assert processed_status(ros, 'inference_ov')['backend'] == 'openvino'


@pytest.mark.parametrize('graph, frozen, optimized', [('frozen', 'True', 'False'),
                                                      ('loaded', 'False', 'False')])
def test_the_frozen_and_the_loaded_graph_give_the_detections_of_the_optimized_one(
        ros, tmp_path, camera, graph, frozen, optimized):
    assert_a_second_node_gives_the_same_boxes(ros, tmp_path, camera, f'inference_{graph}', graph=graph)
    default = processed_status(ros, 'inference')
    assert (default['frozen'], default['optimized']) == ('True', 'True')
    other = processed_status(ros, f'inference_{graph}')
    assert (other['frozen'], other['optimized']) == (frozen, optimized)


def test_missing_backend_fails_configure_with_the_package_to_install(ros, yolov8, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, 'onnxruntime', None)  # as when the package is not installed
    node = start(ros, yolov8, name='inference_ort', backend='onnxruntime')
    assert node.failed
    status = status_of(ros, 'inference_ort')
    assert status.level == DiagnosticStatus.ERROR
    assert "backend 'onnxruntime' needs the Python package onnxruntime" in status.message
    assert 'onnxruntime==' in status.message and '\n' not in status.message
