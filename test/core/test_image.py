"""Image <-> numpy conversion: views, padded rows, byte order, and clear errors."""

import numpy as np
import pytest
from sensor_msgs.msg import Image

from physical_ai.core.errors import ImageError
from physical_ai.core.image import array_to_image, image_to_array


@pytest.mark.parametrize('encoding,shape,dtype', [
    ('bgr8', (4, 5, 3), np.uint8),
    ('rgb8', (4, 5, 3), np.uint8),
    ('mono8', (4, 5), np.uint8),
    ('bgra8', (3, 2, 4), np.uint8),
    ('mono16', (4, 5), np.uint16),
    ('32FC1', (2, 3), np.float32),
])
def test_round_trip(encoding, shape, dtype):
    arr = (np.arange(np.prod(shape)) % 251).astype(dtype).reshape(shape)
    msg = array_to_image(arr, encoding)
    assert (msg.height, msg.width, msg.encoding) == (shape[0], shape[1], encoding)
    assert msg.step == shape[1] * (shape[2] if len(shape) == 3 else 1) * np.dtype(dtype).itemsize
    assert len(msg.data) == msg.height * msg.step
    np.testing.assert_array_equal(image_to_array(msg), arr)


def test_view_shares_the_message_buffer():
    msg = array_to_image(np.zeros((2, 3, 3), np.uint8), 'bgr8')
    view = image_to_array(msg)
    msg.data[0] = 7
    assert view[0, 0, 0] == 7


def test_padded_rows_are_cropped():
    arr = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    msg = Image(height=2, width=3, encoding='bgr8', step=12)
    padded = np.zeros((2, 12), np.uint8)
    padded[:, :9] = arr.reshape(2, 9)
    padded[:, 9:] = 255
    msg.data = padded.tobytes()
    np.testing.assert_array_equal(image_to_array(msg), arr)


def test_padded_rows_of_16_bit_pixels():
    arr = np.array([[1, 2], [3, 65535]], np.uint16)
    padded = np.zeros((2, 3), np.uint16)
    padded[:, :2] = arr
    msg = Image(height=2, width=2, encoding='mono16', step=6, data=padded.tobytes())
    np.testing.assert_array_equal(image_to_array(msg), arr)


def test_foreign_byte_order_is_swapped():
    arr = np.array([[1, 256]], np.uint16)
    msg = Image(height=1, width=2, encoding='mono16', step=4, is_bigendian=True,
                data=arr.astype('>u2').tobytes())
    np.testing.assert_array_equal(image_to_array(msg), arr)


@pytest.mark.parametrize('fields,match', [
    (dict(height=2, width=2, encoding='bgr8', step=6, data=bytes(11)), 'expected height'),
    (dict(height=2, width=2, encoding='bgr8', step=5, data=bytes(10)), 'smaller than'),
    (dict(height=0, width=2, encoding='bgr8', step=6, data=b''), 'zero size'),
    (dict(height=1, width=1, encoding='yuv422', step=2, data=bytes(2)), 'unsupported'),
])
def test_malformed_images_raise(fields, match):
    with pytest.raises(ImageError, match=match):
        image_to_array(Image(**fields))


def test_wrong_array_for_encoding_raises():
    with pytest.raises(ImageError, match='3 channel'):
        array_to_image(np.zeros((2, 2), np.uint8), 'bgr8')
