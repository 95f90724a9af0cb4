"""Output conversion: encodings against pixel content, JPEG CompressedImage in the image_transport format."""

import cv2
import numpy as np
import pytest

from physical_ai.core.camera.output import compress_jpeg, to_encoding
from physical_ai.core.errors import ConfigError
from physical_ai.core.image import array_to_image, image_to_array

BGR = np.zeros((6, 8, 3), np.uint8)
BGR[..., 0], BGR[..., 1], BGR[..., 2] = 10, 100, 200  # blue, green, red


def test_encodings_against_pixel_content():
    assert to_encoding(BGR, 'bgr8') is BGR
    assert to_encoding(BGR, 'rgb8')[0, 0].tolist() == [200, 100, 10]
    mono = to_encoding(BGR, 'mono8')
    assert mono.shape == (6, 8) and int(mono[0, 0]) == round(0.114 * 10 + 0.587 * 100 + 0.299 * 200)
    with pytest.raises(ConfigError, match="encoding 'yuv422'"):
        to_encoding(BGR, 'yuv422')


@pytest.mark.parametrize('encoding', ['bgr8', 'rgb8', 'mono8'])
def test_image_message_round_trip(encoding):
    pixels = to_encoding(BGR, encoding)
    msg = array_to_image(pixels, encoding)
    np.testing.assert_array_equal(image_to_array(msg), pixels)


@pytest.mark.parametrize('encoding,fmt', [('bgr8', 'bgr8; jpeg compressed bgr8'),
                                          ('rgb8', 'rgb8; jpeg compressed bgr8'),
                                          ('mono8', 'mono8; jpeg compressed mono8')])
def test_jpeg_decodes_to_the_same_picture(encoding, fmt):
    msg = compress_jpeg(to_encoding(BGR, encoding), encoding, 95)
    assert msg.format == fmt
    decoded = cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_UNCHANGED)
    expected = BGR if encoding != 'mono8' else to_encoding(BGR, 'mono8')
    assert decoded.shape == expected.shape
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 4


def test_jpeg_quality_changes_the_size():
    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    assert len(compress_jpeg(noise, 'bgr8', 20).data) < len(compress_jpeg(noise, 'bgr8', 95).data)
