"""The MCAP recorder: real messages over real DDS, read back with mcap_ros2 as rosbag2 would."""

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from nav_msgs.msg import Odometry
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

from physical_ai.demo.episode import RECORDED_TOPICS
from physical_ai.demo.recorder import (
    McapFile,
    RecorderError,
    TopicOptions,
    TopicRecorder,
    ament_prefixes,
    header_stamp_ns,
    message_definition,
)


def test_definition_lists_each_dependency_once_in_rosbag2_format():
    text = message_definition('vision_msgs/msg/Detection2DArray')
    blocks = text.split('=' * 80 + '\n')
    own = next(p / 'share/vision_msgs/msg/Detection2DArray.msg' for p in ament_prefixes()
               if (p / 'share/vision_msgs/msg/Detection2DArray.msg').is_file())
    assert blocks[0] == own.read_text().rstrip('\n') + '\n'
    names = [b.split('\n', 1)[0] for b in blocks[1:]]
    assert names[0] == 'MSG: std_msgs/Header'
    assert 'MSG: vision_msgs/Detection2D' in names and 'MSG: geometry_msgs/Point' in names
    assert len(names) == len(set(names))


def test_unknown_type_is_a_clear_error(tmp_path):
    with pytest.raises(RecorderError, match=r'no_such_msgs/msg/Thing.msg not found'):
        message_definition('no_such_msgs/msg/Thing')
    with pytest.raises(RecorderError, match='expected pkg/msg/Type'):
        message_definition('Thing')
    with pytest.raises(RecorderError, match='compression'):
        McapFile(tmp_path / 'x.mcap', compression='gzip')


def _image(stamp_sec, value):
    msg = Image(height=2, width=3, encoding='rgb8', step=9)
    msg.header.stamp.sec = stamp_sec
    msg.header.stamp.nanosec = 5
    msg.header.frame_id = 'camera_optical_frame'
    msg.data = bytes([value] * 18)
    return msg


def _detections(stamp_sec, class_id):
    det = Detection2D(results=[ObjectHypothesisWithPose()])
    det.results[0].hypothesis.class_id = class_id
    det.results[0].hypothesis.score = 0.75
    det.bbox.center.position.x = 12.5
    msg = Detection2DArray(detections=[det])
    msg.header.stamp.sec = stamp_sec
    return msg


def test_records_real_messages_readable_by_mcap_ros2(ros, tmp_path):
    path = tmp_path / 'run.mcap'
    node = ros.node('recorder_test')
    recorder = TopicRecorder(node, path, {
        'camera/image_raw': TopicOptions(),
        'detections': TopicOptions(),
        'odom': TopicOptions('nav_msgs/msg/Odometry'),
        '/diagnostics': TopicOptions(),
    })
    images = ros.publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
    detections = ros.publisher(Detection2DArray, 'detections', 10)
    odom = ros.publisher(Odometry, 'odom', 10)
    diagnostics = ros.publisher(DiagnosticArray, '/diagnostics', 10)
    ros.wait_until(lambda: all(p.get_subscription_count() >= 1 for p in (images, detections, odom,
                                                                           diagnostics)),
                   timeout=15.0, what='the recorder to subscribe to every topic')

    for i in range(3):
        images.publish(_image(100 + i, 10 * i))
        # Best effort: wait for each frame before the next so none is overwritten in the queue.
        ros.wait_until(lambda n=i + 1: recorder.counts['/camera/image_raw'] >= n, timeout=10.0,
                       what=f'image {i} to be recorded')
        detections.publish(_detections(100 + i, ['ball', 'person', 'box'][i]))
        msg = Odometry()
        msg.header.stamp.sec = 100 + i
        msg.pose.pose.position.x = 0.5 * i
        odom.publish(msg)
    diagnostics.publish(DiagnosticArray(status=[DiagnosticStatus(
        name='planner: approach', message='stopped', values=[KeyValue(key='state', value='arrived')])]))
    ros.wait_until(lambda: recorder.counts.get('/detections') == 3 and recorder.counts.get('/odom') == 3
                   and recorder.counts.get('/diagnostics') == 1, timeout=10.0, what='every message')
    recorder.close()

    with open(path, 'rb') as stream:
        reader = make_reader(stream)
        assert reader.get_header().profile == 'ros2'
        summary = reader.get_summary()
    schemas = {s.name: s for s in summary.schemas.values()}
    assert {'sensor_msgs/msg/Image', 'vision_msgs/msg/Detection2DArray', 'nav_msgs/msg/Odometry',
            'diagnostic_msgs/msg/DiagnosticArray'} <= set(schemas)
    assert all(s.encoding == 'ros2msg' for s in schemas.values())
    channels = {c.topic: c for c in summary.channels.values()}
    assert all(c.message_encoding == 'cdr' for c in channels.values())
    assert channels['/camera/image_raw'].metadata['topic_type_hash'].startswith('RIHS01_')
    assert channels['/odom'].metadata['offered_qos_profiles'] == ''

    got = {}
    with open(path, 'rb') as stream:
        for _, channel, message, ros_msg in make_reader(
                stream, decoder_factories=[DecoderFactory()]).iter_decoded_messages():
            got.setdefault(channel.topic, []).append((message, ros_msg))
    imgs = got['/camera/image_raw']
    assert [m[1].header.stamp.sec for m in imgs] == [100, 101, 102]
    assert [bytes(m[1].data) for m in imgs] == [bytes([10 * i] * 18) for i in range(3)]
    assert imgs[1][1].encoding == 'rgb8' and imgs[1][1].header.frame_id == 'camera_optical_frame'
    assert [m[0].publish_time for m in imgs] == [(100 + i) * 10**9 + 5 for i in range(3)]
    assert all(m[0].log_time > 1_600_000_000 * 10**9 for m in imgs)  # wall-clock receive time
    dets = got['/detections']
    assert [m[1].detections[0].results[0].hypothesis.class_id for m in dets] == ['ball', 'person', 'box']
    assert dets[0][1].detections[0].bbox.center.position.x == 12.5
    assert [m[1].pose.pose.position.x for m in got['/odom']] == [0.0, 0.5, 1.0]
    status = got['/diagnostics'][0][1].status[0]
    assert status.name == 'planner: approach' and status.values[0].value == 'arrived'


def test_rate_limit_and_header_stamp(ros, tmp_path):
    cdr = bytes([0, 1, 0, 0]) + (7).to_bytes(4, 'little') + (9).to_bytes(4, 'little')
    assert header_stamp_ns(cdr) == 7 * 10**9 + 9
    node = ros.node('recorder_rate')
    recorder = TopicRecorder(node, tmp_path / 'rate.mcap', {'odom': TopicOptions(max_rate=0.001)})
    pub = ros.publisher(Odometry, 'odom', 10)
    ros.wait_until(lambda: pub.get_subscription_count() >= 1, timeout=15.0, what='the subscription')
    for _ in range(5):
        pub.publish(Odometry())
    ros.wait_until(lambda: recorder.counts.get('/odom') == 1, timeout=10.0, what='the first message')
    recorder.close()
    with open(tmp_path / 'rate.mcap', 'rb') as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        assert len(list(reader.iter_decoded_messages())) == 1


def test_demo_recordings_carry_the_tf_tree(ros, tmp_path):
    """The demo's topic list records /tf and /tf_static, so a run replays as a 3D scene."""
    from physical_ai.nodes.sim_node import SimNode

    assert {'/tf', '/tf_static', 'robot_description'} <= set(RECORDED_TOPICS)
    sim = ros.add(SimNode(context=ros.context, parameter_overrides=[
        Parameter('camera_width', value=64), Parameter('camera_height', value=48),
        Parameter('ground_truth', value=False)]))
    # The recorder starts after the mount was published: transient local still delivers it.
    ros.wait_until(lambda: sim.sim.time > 0.5, timeout=20.0, what='the simulation to run')
    path = tmp_path / 'tf.mcap'
    recorder = TopicRecorder(ros.node('tf_recorder'), path,
                             {t: RECORDED_TOPICS[t] for t in ('/tf', '/tf_static', 'odom')})
    ros.wait_until(lambda: recorder.counts.get('/tf_static') == 1 and recorder.counts.get('/tf', 0) >= 5,
                   timeout=20.0, what='/tf and /tf_static to be recorded')
    recorder.close()

    got = {}
    with open(path, 'rb') as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        schemas = {c.topic: reader.get_summary().schemas[c.schema_id].name
                   for c in reader.get_summary().channels.values()}
        for _, channel, _, ros_msg in reader.iter_decoded_messages():
            got.setdefault(channel.topic, []).append(ros_msg)
    assert schemas['/tf'] == schemas['/tf_static'] == 'tf2_msgs/msg/TFMessage'
    static = got['/tf_static'][0].transforms
    assert [(t.header.frame_id, t.child_frame_id) for t in static] == [
        ('base_link', 'camera_link'), ('camera_link', 'camera_optical_frame')]
    assert {(t.header.frame_id, t.child_frame_id) for m in got['/tf'] for t in m.transforms} == {
        ('odom', 'base_link')}
