"""sensor_msgs/Image parsed from serialized bytes: the fields rclpy deserializes, the pixels a view."""

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image

from physical_ai.core.errors import ImageError
from physical_ai.core.image import array_to_image, image_to_array
from physical_ai.core.wire_image import parse_image


def image(width=7, height=5, encoding='bgr8', frame_id='camera_optical_frame', stamp=(12, 345), pad=0):
    channels = {'bgr8': 3, 'mono8': 1, 'rgba8': 4}[encoding]
    rng = np.random.default_rng(width * height)
    pixels = rng.integers(0, 256, (height, width * channels + pad), dtype=np.uint8)
    msg = Image(height=height, width=width, encoding=encoding, step=width * channels + pad,
                data=pixels.tobytes())
    msg.header.frame_id = frame_id
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    return msg


# frame_id and encoding lengths 0..4 move every later field across all four alignments.
@pytest.mark.parametrize('frame_id', ['', 'a', 'ab', 'abc', 'abcd', 'cámara'])
@pytest.mark.parametrize('encoding,pad', [('bgr8', 0), ('mono8', 3), ('rgba8', 1)])
def test_fields_match_rclpy(frame_id, encoding, pad):
    msg = image(encoding=encoding, frame_id=frame_id, pad=pad, stamp=(-3, 999_999_999))
    wire = parse_image(serialize_message(msg))
    back = deserialize_message(serialize_message(msg), Image)
    assert (wire.stamp_sec, wire.stamp_nanosec, wire.frame_id) == (-3, 999_999_999, frame_id)
    assert (wire.height, wire.width, wire.encoding, wire.is_bigendian, wire.step) == \
        (back.height, back.width, back.encoding, back.is_bigendian, back.step)
    assert bytes(wire.data) == bytes(back.data)
    assert np.array_equal(image_to_array(wire), image_to_array(back))


def test_pixels_are_a_view_of_the_serialized_bytes():
    frame = np.arange(48 * 64 * 3, dtype=np.uint32).astype(np.uint8).reshape(48, 64, 3)
    serialized = bytearray(serialize_message(array_to_image(frame, 'bgr8')))
    pixels = image_to_array(parse_image(serialized))
    assert np.array_equal(pixels, frame)
    serialized[-1] ^= 0xFF  # the last pixel byte: the array sees it, so nothing was copied
    assert pixels[-1, -1, -1] == frame[-1, -1, -1] ^ 0xFF


def test_truncated_and_foreign_bytes_are_refused():
    serialized = serialize_message(image())
    for cut in (2, 8, 30, len(serialized) - 1):
        with pytest.raises(ImageError, match='truncated|expected a CDR'):
            parse_image(serialized[:cut])
    with pytest.raises(ImageError, match='encapsulation 0x0203'):
        parse_image(b'\x02\x03\x00\x00' + serialized[4:])


def test_empty_image_parses_and_is_then_refused_as_zero_size():
    wire = parse_image(serialize_message(Image(encoding='bgr8')))
    assert (wire.height, wire.width, len(wire.data)) == (0, 0, 0)
    with pytest.raises(ImageError, match='zero size'):
        image_to_array(wire)
