"""The tf2_msgs built into the venv (interfaces/tf2_msgs) is the real package, field for field.

ROS 2 matches publishers and subscribers of different machines by type hash (RIHS01, REP 2011):
ours must equal what a robot's tf2_msgs has, or /tf from this stack and from the robot do not
connect. The hashes are checked three ways: against published values of the real package, by
recomputing them from the installed type description (the REP 2011 recipe, independent of
rosidl), and by the fields of that description against the real definitions written out here.
"""

import hashlib
import json
from pathlib import Path
import sys

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARE = Path(sys.prefix) / 'share/tf2_msgs'

# Published by the real package (ros2 topic info -v /tf; rmw golden-hash tests); FrameGraph's
# is this build's, tied to the real fields below.
HASHES = {
    'msg/TFMessage': 'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087',
    'msg/TF2Error': 'RIHS01_db2485e7d6a0ec75bf087e058ee45df682acc3a621ca7780503d10aac141809a',
    'srv/FrameGraph': 'RIHS01_0d1fbc6222c018ba5f33822904a2fdd4063705289956d3fdde07cd8c50fe8067',
}
# type_id values of type_description_interfaces/FieldType.
UINT8, STRING, NESTED, NESTED_SEQUENCE = 3, 17, 1, 145
# The real definitions (ros2/geometry2 tf2_msgs): (field, type_id, nested type).
FIELDS = {
    'tf2_msgs/msg/TFMessage': [('transforms', NESTED_SEQUENCE, 'geometry_msgs/msg/TransformStamped')],
    'tf2_msgs/msg/TF2Error': [('error', UINT8, ''), ('error_string', STRING, '')],
    'tf2_msgs/srv/FrameGraph_Request': [('structure_needs_at_least_one_member', UINT8, '')],
    'tf2_msgs/srv/FrameGraph_Response': [('frame_yaml', STRING, '')],
}
TF2_ERROR_CONSTANTS = {'NO_ERROR': 0, 'LOOKUP_ERROR': 1, 'CONNECTIVITY_ERROR': 2, 'EXTRAPOLATION_ERROR': 3,
                       'INVALID_ARGUMENT_ERROR': 4, 'TIMEOUT_ERROR': 5, 'TRANSFORM_ERROR': 6}


def rihs01(type_description_msg):
    """Return the RIHS01 hash of a type description (REP 2011: no default values, fixed JSON form)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != 'default_value'}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    text = json.dumps(strip(type_description_msg), separators=(', ', ': '))
    return 'RIHS01_' + hashlib.sha256(text.encode()).hexdigest()


def descriptions(name):
    data = json.loads((SHARE / f'{name}.json').read_text())
    msg = data['type_description_msg']
    found = {d['type_name']: d for d in [msg['type_description'], *msg['referenced_type_descriptions']]}
    return data, msg, found


@pytest.mark.parametrize('name', sorted(HASHES))
def test_installed_type_hash_equals_the_real_package(name):
    data, msg, _ = descriptions(name)
    own = f'tf2_msgs/{name}'
    installed = next(h['hash_string'] for h in data['type_hashes'] if h['type_name'] == own)
    assert installed == HASHES[name]
    assert rihs01(msg) == installed


@pytest.mark.parametrize('name', sorted(HASHES))
def test_installed_fields_are_the_real_definitions(name):
    _, _, found = descriptions(name)
    for type_name, fields in FIELDS.items():
        if type_name not in found:
            continue
        got = [(f['name'], f['type']['type_id'], f['type']['nested_type_name'])
               for f in found[type_name]['fields']]
        assert got == fields, type_name
    assert any(t in found for t in FIELDS)


def test_python_classes_and_constants():
    from tf2_msgs.action import LookupTransform
    from tf2_msgs.msg import TF2Error, TFMessage
    from tf2_msgs.srv import FrameGraph

    fields = TFMessage.get_fields_and_field_types()
    assert fields == {'transforms': 'sequence<geometry_msgs/TransformStamped>'}
    assert {k: getattr(TF2Error, k) for k in TF2_ERROR_CONSTANTS} == TF2_ERROR_CONSTANTS
    assert FrameGraph.Response.get_fields_and_field_types() == {'frame_yaml': 'string'}
    assert list(LookupTransform.Goal.get_fields_and_field_types()) == [
        'target_frame', 'source_frame', 'source_time', 'timeout', 'target_time', 'fixed_frame', 'advanced']
    assert list(LookupTransform.Result.get_fields_and_field_types()) == ['transform', 'error']


def test_robots_build_their_distributions_tf2_msgs_not_ours():
    assert (ROOT / 'interfaces/COLCON_IGNORE').is_file()
    assert 'tf2_msgs' in (ROOT / 'tools/build_interfaces.sh').read_text()
