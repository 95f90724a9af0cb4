"""Parameter specs: type coercion, ranges, choices and clear messages."""

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.params import ParamSpec, check_params

SPECS = [
    ParamSpec('speed', 0.5, 'Speed.', min_value=0.0, max_value=2.0),
    ParamSpec('behavior', 'approach', 'Behaviour.', choices=('approach', 'follow')),
    ParamSpec('size', [640, 480], 'Size.'),
    ParamSpec('on', True, 'Switch.'),
]


def test_valid_values_are_coerced():
    assert check_params(SPECS, {'speed': 1, 'size': [320, 240], 'use_sim_time': True}) == \
        {'speed': 1.0, 'size': [320, 240], 'use_sim_time': True}


@pytest.mark.parametrize('values,match', [
    ({'speed': 3.0}, r'parameter speed: 3.0 is out of range \(in \[0.0, 2.0\]\)'),
    ({'speed': 'fast'}, 'parameter speed: expected double'),
    ({'speed': float('nan')}, 'not a finite number'),
    ({'behavior': 'dance'}, "'dance' is not accepted"),
    ({'size': 640}, 'expected a list'),
    ({'on': 1}, 'expected bool'),
    ({'colour': 'red'}, "unknown parameter 'colour'"),
])
def test_invalid_values_say_why(values, match):
    with pytest.raises(ConfigError, match=match):
        check_params(SPECS, values)
