"""The package is a valid ROS 2 package and the venv a valid ament prefix after `make setup`."""

import os
from pathlib import Path
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = Path(__file__).resolve().parent.parent
PREFIX = Path(sys.prefix)

# vision_msgs 4.x as shipped with ROS 2 Humble and later: identical fields give identical type
# hashes, so our messages interoperate with a robot's real vision_msgs.
VISION_MSGS_4X = {
    'Point2D': [('float64', 'x'), ('float64', 'y')],
    'Pose2D': [('vision_msgs/Point2D', 'position'), ('float64', 'theta')],
    'BoundingBox2D': [('vision_msgs/Pose2D', 'center'), ('float64', 'size_x'),
                      ('float64', 'size_y')],
    'BoundingBox2DArray': [('std_msgs/Header', 'header'), ('vision_msgs/BoundingBox2D[]', 'boxes')],
    'BoundingBox3D': [('geometry_msgs/Pose', 'center'), ('geometry_msgs/Vector3', 'size')],
    'BoundingBox3DArray': [('std_msgs/Header', 'header'), ('vision_msgs/BoundingBox3D[]', 'boxes')],
    'ObjectHypothesis': [('string', 'class_id'), ('float64', 'score')],
    'ObjectHypothesisWithPose': [('vision_msgs/ObjectHypothesis', 'hypothesis'),
                                 ('geometry_msgs/PoseWithCovariance', 'pose')],
    'Detection2D': [('std_msgs/Header', 'header'),
                    ('vision_msgs/ObjectHypothesisWithPose[]', 'results'),
                    ('vision_msgs/BoundingBox2D', 'bbox'), ('string', 'id')],
    'Detection2DArray': [('std_msgs/Header', 'header'), ('vision_msgs/Detection2D[]', 'detections')],
    'Detection3D': [('std_msgs/Header', 'header'),
                    ('vision_msgs/ObjectHypothesisWithPose[]', 'results'),
                    ('vision_msgs/BoundingBox3D', 'bbox'), ('string', 'id')],
    'Detection3DArray': [('std_msgs/Header', 'header'), ('vision_msgs/Detection3D[]', 'detections')],
    'Classification': [('std_msgs/Header', 'header'), ('vision_msgs/ObjectHypothesis[]', 'results')],
    'VisionClass': [('uint16', 'class_id'), ('string', 'class_name')],
    'LabelInfo': [('std_msgs/Header', 'header'), ('vision_msgs/VisionClass[]', 'class_map'),
                  ('float32', 'threshold')],
    'VisionInfo': [('std_msgs/Header', 'header'), ('string', 'method'),
                   ('string', 'database_location'), ('int32', 'database_version')],
}


def test_package_xml_declares_the_stack_dependencies():
    root = ET.parse(ROOT / 'package.xml').getroot()
    assert root.get('format') == '3'
    assert root.findtext('name') == 'physical_ai'
    deps = {e.text for e in root if e.tag.endswith('depend')}
    for dep in ('rclpy', 'sensor_msgs', 'geometry_msgs', 'std_msgs', 'visualization_msgs',
                'diagnostic_msgs', 'lifecycle_msgs', 'nav_msgs', 'rosgraph_msgs', 'vision_msgs'):
        assert dep in deps, dep
    assert root.find('export/build_type').text == 'ament_python'


def test_colcon_skips_the_vendored_interfaces():
    assert (ROOT / 'interfaces' / 'COLCON_IGNORE').is_file()


@pytest.mark.parametrize('name', sorted(VISION_MSGS_4X))
def test_vision_msgs_definitions_match_4x(name):
    text = (ROOT / 'interfaces/vision_msgs/msg' / f'{name}.msg').read_text()
    fields = [tuple(line.split()[:2]) for line in text.splitlines()
              if line.strip() and not line.lstrip().startswith('#')]
    assert fields == VISION_MSGS_4X[name]


@pytest.mark.parametrize('name', sorted(VISION_MSGS_4X))
def test_built_vision_msgs_have_the_4x_fields_and_a_type_hash(name):
    module = __import__('vision_msgs.msg', fromlist=[name])
    msg_type = getattr(module, name)
    assert list(msg_type.get_fields_and_field_types()) == [f for _, f in VISION_MSGS_4X[name]]
    description = PREFIX / 'share/vision_msgs/msg' / f'{name}.json'
    assert re.search(r'"RIHS01_[0-9a-f]{64}"', description.read_text())


def test_venv_is_an_ament_prefix():
    assert (PREFIX / 'share/ament_index/resource_index/packages/physical_ai').is_file()
    share = PREFIX / 'share/physical_ai'
    assert (share / 'package.xml').is_file()
    assert (share / 'launch').is_dir()
    assert (share / 'config' / 'dds' / 'fastdds_robot.xml').is_file()
    lib = PREFIX / 'lib/physical_ai'
    executables = [p for p in lib.iterdir() if os.access(p, os.X_OK)]
    assert {p.name for p in executables} >= {'physical-ai'}
    # The executables run from there (what `ros2 run` and launch_ros do).
    result = subprocess.run([str(lib / 'physical-ai'), '--help'], capture_output=True, text=True)
    assert result.returncode == 0 and 'usage: physical-ai' in result.stdout


def test_the_stack_imports_with_no_environment_set_by_hand():
    code = ('import rclpy, torch, cv2, numpy, physical_ai; '
            'from vision_msgs.msg import Detection2DArray, LabelInfo; print("ok")')
    result = subprocess.run([str(PREFIX / 'bin/python'), '-c', code], capture_output=True,
                            text=True, env={'PATH': '/usr/bin:/bin', 'HOME': os.environ['HOME']},
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('ok')
