"""Source parsing and validation, and real reads from video files, image folders, streams and the pattern."""

import os

import cv2
import numpy as np
import pytest

from physical_ai.core.camera.sources import (
    ACCEPTED_FORMS,
    DeviceSource,
    PatternSource,
    SourceEndedError,
    SourceError,
    SourceOptions,
    StreamSource,
    VideoFileSource,
    create_source,
    describe_mismatch,
    gstreamer_available,
    parse_source,
    redact_url,
)
from physical_ai.core.errors import ConfigError


@pytest.mark.parametrize('text,kind,target', [
    ('0', DeviceSource, 0),
    ('3', DeviceSource, 3),
    ('/dev/video0', DeviceSource, '/dev/video0'),
    ('/dev/v4l/by-id/usb-Cam-video-index0', DeviceSource, '/dev/v4l/by-id/usb-Cam-video-index0'),
    ('test_pattern', PatternSource, None),
    ('rtsp://192.168.1.10:8554/live', StreamSource, None),
    ('rtsps://cam.local/stream', StreamSource, None),
    ('http://127.0.0.1:8080/video.mjpg', StreamSource, None),
    ('udp://127.0.0.1:5000', StreamSource, None),
])
def test_parse_accepted_forms(text, kind, target):
    source = parse_source(text)
    assert type(source) is kind
    if target is not None:
        assert source.target == target


def test_device_path_for_an_index_and_requested_format():
    source = parse_source('2', SourceOptions(width=1280, height=720, fps=15.0, pixel_format='YUYV'))
    assert source.path == '/dev/video2'
    assert source.requested() == 'YUYV 1280x720 @ 15 Hz'
    assert source.rate is None  # the device paces itself
    assert 'V4L2 device /dev/video2' in source.description


def test_absent_device_is_accepted_at_start_up_and_retried():
    source = create_source('/dev/video_physical_ai_absent')
    with pytest.raises(SourceError, match='does not exist'):
        source.open()


def test_device_that_cannot_be_opened_raises_source_error():
    # /dev/null is a character device but no camera: OpenCV's V4L2 backend refuses it.
    source = create_source('/dev/null')
    with pytest.raises(SourceError, match='cannot open V4L2 device /dev/null'):
        source.open()


@pytest.mark.parametrize('granted,expected', [
    (('MJPG', 1280, 720, 30.0), ''),
    (('YUYV', 1280, 720, 30.0), 'format YUYV instead of MJPG'),
    (('MJPG', 640, 480, 30.0), 'size 640x480 instead of 1280x720'),
    (('MJPG', 1280, 720, 10.0), '10 Hz instead of 30 Hz'),
])
def test_device_mismatch_is_described(granted, expected):
    options = SourceOptions(width=1280, height=720, fps=30.0, pixel_format='MJPG')
    assert describe_mismatch(options, *granted) == expected


def test_paths_resolve_by_what_is_on_disk(tmp_path, make_video, make_images):
    video = make_video(tmp_path / 'clip.avi')
    images = make_images(tmp_path / 'shots', [(0, 0, 255), (0, 255, 0)])
    assert type(parse_source(str(video))) is VideoFileSource
    assert type(parse_source(f'file://{video}')) is VideoFileSource
    assert parse_source(str(tmp_path / 'shots')).mode == 'dir'
    assert parse_source(str(images[0])).mode == 'file'
    assert parse_source(str(tmp_path / 'shots' / '*.png')).mode == 'glob'


@pytest.mark.parametrize('text,why', [
    ('video:/nope', 'unknown scheme video:'),
    ('rtsp:/bad', r'needs a host \(rtsp://host'),
    ('http://', 'needs a host'),
    ('rtsp://cam:99999/live', 'port'),
    ('/nope/clip.mp4', 'no such file, directory or device'),
    ('relative/missing.avi', 'no such file, directory or device'),
    ('', 'empty'),
    ('-1', 'index must be 0 or more'),
    ('file:relative', 'file:///absolute/path'),
])
def test_bad_sources_name_the_value_and_the_accepted_forms(text, why):
    with pytest.raises(ConfigError, match=why) as err:
        create_source(text)
    message = str(err.value)
    assert message.startswith(f'source {text!r}')
    assert ACCEPTED_FORMS in message and '\n' not in message


def test_start_up_checks_of_files(tmp_path):
    not_a_video = tmp_path / 'notes.txt'
    not_a_video.write_text('hello')
    with pytest.raises(ConfigError, match='cannot open this file as a video'):
        create_source(str(not_a_video))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ConfigError, match='no image files'):
        create_source(str(tmp_path / 'empty'))
    with pytest.raises(ConfigError, match='no image files'):
        create_source(str(tmp_path / '*.png'))


def test_gstreamer_pipeline_needs_appsink_and_the_backend():
    with pytest.raises(ConfigError, match='must end with appsink'):
        create_source('videotestsrc ! videoconvert')
    pipeline = 'videotestsrc ! videoconvert ! appsink'
    if gstreamer_available():
        assert create_source(pipeline).gstreamer
    else:
        with pytest.raises(ConfigError, match='no GStreamer backend'):
            create_source(pipeline)


def test_pixel_format_is_checked():
    with pytest.raises(ConfigError, match="pixel_format 'H264'"):
        parse_source('0', SourceOptions(pixel_format='H264'))


def test_passwords_never_reach_logs():
    assert redact_url('rtsp://admin:secret@10.0.0.2:554/live') == 'rtsp://admin:***@10.0.0.2:554/live'
    assert redact_url('rtsp://10.0.0.2/live') == 'rtsp://10.0.0.2/live'
    assert 'secret' not in parse_source('rtsp://admin:secret@cam/live').description


def test_video_file_plays_every_frame_at_its_rate_and_loops(tmp_path, make_video):
    path = make_video(tmp_path / 'clip.avi', frames=5, fps=25.0)
    source = create_source(str(path), SourceOptions(fps=7.0))
    assert '64x48' in source.open()
    assert source.rate == pytest.approx(25.0)  # the file's rate, not fps
    values = [int(source.read()[0, 0, 0]) for _ in range(12)]
    expected = [(20 * i) % 256 for i in range(5)]
    assert values == pytest.approx(expected * 2 + expected[:2], abs=3)  # MJPG is lossy
    source.close()


def test_video_file_without_loop_ends(tmp_path, make_video):
    path = make_video(tmp_path / 'clip.avi', frames=3)
    source = create_source(str(path), SourceOptions(loop=False))
    source.open()
    for _ in range(3):
        source.read()
    with pytest.raises(SourceEndedError, match='loop is false'):
        source.read()


def test_video_file_moved_away_fails_at_the_next_pass(tmp_path, make_video):
    path = make_video(tmp_path / 'clip.avi', frames=2)
    source = create_source(str(path))
    source.open()
    source.read()
    source.read()
    os.rename(path, tmp_path / 'elsewhere.avi')
    with pytest.raises(SourceError, match='cannot open video file'):
        source.read()
    with pytest.raises(SourceError):
        source.open()
    os.rename(tmp_path / 'elsewhere.avi', path)
    source.open()
    assert source.read().shape == (48, 64, 3)


def test_image_folder_in_natural_order_and_looped(tmp_path, make_images):
    colors = [(10, 0, 0), (20, 0, 0), (30, 0, 0)]
    make_images(tmp_path / 'shots', colors, names=['img_2.png', 'img_10.png', 'img_1.png'])
    (tmp_path / 'shots' / 'readme.txt').write_text('not an image')
    source = create_source(str(tmp_path / 'shots'), SourceOptions(fps=12.0))
    assert '3 file(s)' in source.open()
    assert source.rate == 12.0
    blues = [int(source.read()[0, 0, 0]) for _ in range(5)]
    assert blues == [30, 10, 20, 30, 10]  # img_1, img_2, img_10, then again


def test_image_folder_without_loop_ends_and_gone_folder_fails(tmp_path, make_images):
    make_images(tmp_path / 'shots', [(1, 2, 3)])
    source = create_source(str(tmp_path / 'shots'), SourceOptions(loop=False))
    source.open()
    assert source.read()[0, 0].tolist() == [1, 2, 3]
    with pytest.raises(SourceEndedError):
        source.read()
    source.loop = True
    os.rename(tmp_path / 'shots', tmp_path / 'gone')
    with pytest.raises(SourceError, match='no image files found'):
        source.read()
    with pytest.raises(SourceError, match='no image files found'):
        source.open()


def test_unreadable_image_is_a_source_error(tmp_path, make_images):
    make_images(tmp_path / 'shots', [(1, 2, 3)])
    (tmp_path / 'shots' / 'frame_1.png').write_bytes(b'not a png')
    source = create_source(str(tmp_path / 'shots'))
    source.open()
    source.read()
    with pytest.raises(SourceError, match='cannot read image'):
        source.read()


def test_grayscale_and_alpha_images_come_out_bgr(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), np.full((4, 5), 77, np.uint8))
    cv2.imwrite(str(tmp_path / 'b.png'), np.full((4, 5, 4), (1, 2, 3, 4), np.uint8))
    source = create_source(str(tmp_path))
    source.open()
    assert source.read().shape == (4, 5, 3)
    assert source.read()[0, 0].tolist() == [1, 2, 3]


def test_test_pattern_moves():
    source = create_source('test_pattern', SourceOptions(width=160, height=120, fps=30.0))
    assert source.open() == 'test pattern 160x120'
    frames = [source.read() for _ in range(10)]
    assert all(f.shape == (120, 160, 3) and f.dtype == np.uint8 for f in frames)
    assert np.abs(frames[0].astype(int) - frames[9].astype(int)).sum() > 1000
    assert frames[0] is not frames[1]  # each frame is a new array (the capture slot keeps it)


def test_test_pattern_default_size_and_fps_change():
    source = create_source('test_pattern', SourceOptions(width=0, height=0))
    source.open()
    assert source.read().shape == (480, 640, 3)
    source.set_fps(5.0)
    assert source.rate == 5.0


def test_stream_from_a_local_server(mjpeg_server):
    source = create_source(mjpeg_server.url, SourceOptions(timeout=3.0))
    assert source.rate is None
    source.open()
    assert source.read().shape == (48, 64, 3)
    source.close()


def test_unreachable_stream_raises_source_error(mjpeg_server):
    mjpeg_server.stop()  # nothing listens on the port now
    source = create_source(mjpeg_server.url, SourceOptions(timeout=1.0))
    with pytest.raises(SourceError, match='cannot open stream http://127.0.0.1'):
        source.open()
