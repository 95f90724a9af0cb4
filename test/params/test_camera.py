"""The camera node's parameter table: complete, documented, and what robot profiles are checked against."""

from pathlib import Path

import pytest

from physical_ai.core.camera.output import OUTPUT_ENCODINGS
from physical_ai.core.camera.sources import PIXEL_FORMATS
from physical_ai.core.errors import ConfigError
from physical_ai.params import check_params, node_params
from physical_ai.params.camera import PARAMS

DOC = Path(__file__).resolve().parents[2] / 'docs' / 'camera.md'


def test_every_parameter_is_described_and_documented():
    doc = DOC.read_text()
    for spec in PARAMS:
        assert spec.description.strip(), spec.name
        assert f'| `{spec.name}` |' in doc, f'{spec.name} missing from the table in {DOC.name}'


def test_choices_match_the_core():
    table = node_params('camera')
    assert table['encoding'].choices == OUTPUT_ENCODINGS
    assert table['pixel_format'].choices == PIXEL_FORMATS
    assert {name for name, spec in table.items() if spec.read_only} == {
        'source', 'width', 'height', 'pixel_format', 'camera_info_url', 'publish_compressed', 'timeout'}


def test_profile_values_are_checked():
    assert check_params(PARAMS, {'source': '0', 'fps': 15, 'encoding': 'rgb8'}) == \
        {'source': '0', 'fps': 15.0, 'encoding': 'rgb8'}
    with pytest.raises(ConfigError, match=r'parameter fps: 0.0 is out of range'):
        check_params(PARAMS, {'fps': 0.0})
    with pytest.raises(ConfigError, match="parameter encoding: 'yuv422' is not accepted"):
        check_params(PARAMS, {'encoding': 'yuv422'})
