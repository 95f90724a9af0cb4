"""Robot profiles: shipped files validate, overrides apply, bad profiles fail naming file and key."""

from pathlib import Path

import pytest
import yaml

from physical_ai.core.environment import dds_profile
from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import (
    actuation_warnings,
    available_profiles,
    check_files,
    describe,
    expand_topic,
    load_profile,
    normalize_namespace,
    package_root,
    parse_override,
    profiles_dir,
)
from physical_ai.params import NODE_TYPES, node_params

SHIPPED = ('gazebo', 'sim', 'usb_camera_diffdrive')


def write(tmp_path: Path, text: str, name: str = 'bot.yaml') -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


MINIMAL = """
robot: bot
nodes:
  planner:
    type: planner
    parameters: {max_linear_speed: 0.3}
"""


def test_shipped_profiles_are_there():
    assert set(SHIPPED) <= set(available_profiles())


@pytest.mark.parametrize('name', available_profiles())
def test_every_shipped_profile_loads_and_validates(name):
    profile = load_profile(name)
    assert profile.name == name and profile.description
    assert profile.path == profiles_dir() / f'{name}.yaml'
    assert dds_profile(profile.dds_profile).is_file()
    assert profile.nodes
    for node in profile.nodes:
        module, executable, entry = NODE_TYPES[node.node_type]
        assert (node.executable, node.entry, node.package) == (executable, entry, 'physical_ai')
        table = node_params(node.node_type)
        for key, value in node.parameters.items():
            if key == 'use_sim_time':
                assert value is profile.use_sim_time
            elif not key.startswith('qos_overrides.'):
                assert table[key].check(value) == value
    # The same profile under a namespace: every node moves, nothing else changes.
    spaced = load_profile(name, namespace='robot7')
    assert [n.fully_qualified_name for n in spaced.nodes] == [f'/robot7/{n.name}' for n in profile.nodes]
    assert [n.remappings for n in spaced.nodes] == [n.remappings for n in profile.nodes]
    assert yaml.safe_load(describe(spaced))['namespace'] == '/robot7'


@pytest.mark.parametrize('name', available_profiles())
def test_every_shipped_profile_gates_its_planner(name):
    profile = load_profile(name, namespace='robot3')
    assert actuation_warnings(profile) == []
    gate = next(n for n in profile.nodes if n.node_type == 'safety')
    assert gate.resolve_topic('cmd_vel') == '/robot3/cmd_vel'


def test_ungated_planner_is_warned_about_and_missing_model_refused(tmp_path):
    profile = load_profile(write(tmp_path, MINIMAL))
    (warning,) = actuation_warnings(profile)
    assert '/planner publishes its commands on /cmd_vel, which no safety node gates' in warning
    text = MINIMAL + '  inference:\n    type: inference\n    parameters: {model_path: nowhere.pt}\n'
    with pytest.raises(ConfigError, match=r'inference\.parameters\.model_path: .*nowhere\.pt does not'):
        check_files(load_profile(write(tmp_path, text)))


def test_sim_profile_runs_the_simulator_closed_loop():
    profile = load_profile('sim')
    assert {n.node_type for n in profile.nodes} == {'sim', 'inference', 'depth', 'planner', 'safety'}
    model = profile.node('inference').parameters['model_path']
    assert model == str(package_root() / 'models/default_detector.pt')
    assert profile.node('planner').parameters['use_sim_time'] is True


def test_gazebo_profile_bridges_the_topics_the_nodes_use():
    profile = load_profile('gazebo', namespace='robot1')
    assert profile.use_sim_time and 'sim' not in {n.node_type for n in profile.nodes}
    bridged = {expand_topic(t.ros, profile.namespace, 'gz_bridge'): t.direction for t in profile.gz_bridge}
    assert bridged == {'/robot1/camera/image_raw': 'gz_to_ros', '/robot1/camera/camera_info': 'gz_to_ros',
                       '/robot1/camera/depth/image_raw': 'gz_to_ros',
                       '/robot1/cmd_vel': 'ros_to_gz', '/robot1/odom': 'gz_to_ros', '/robot1/tf': 'gz_to_ros',
                       '/clock': 'gz_to_ros'}
    # The planner talks to the safety gate; only the gate's cmd_vel reaches Gazebo.
    assert profile.node('planner').resolve_topic('cmd_vel') == '/robot1/planner/cmd_vel'
    assert profile.node('safety').resolve_topic('cmd_vel') == '/robot1/cmd_vel'
    assert '/camera/image@sensor_msgs/msg/Image[gz.msgs.Image' in profile.bridge_arguments()
    assert ('/camera/image', 'camera/image_raw') in profile.bridge_remappings()
    assert profile.node('depth').resolve_topic('camera/depth/camera_info') == '/robot1/camera/camera_info'
    command = profile.bridge_command()
    assert command[:4] == ['ros2', 'run', 'ros_gz_bridge', 'parameter_bridge']
    assert '__ns:=/robot1' in command and 'use_sim_time:=true' in command


def test_usb_camera_profile_drives_a_real_base():
    profile = load_profile('usb_camera_diffdrive')
    assert {n.node_type for n in profile.nodes} == {'camera', 'camera_mount', 'inference', 'planner',
                                                    'safety'}
    assert profile.use_sim_time is False and profile.dds_profile == 'local'  # confined by default


def test_overrides_are_typed_and_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    profile = load_profile(write(tmp_path, MINIMAL), namespace='/fleet/robot2/',
                           overrides=['planner.max_linear_speed=1', 'planner.stop_classes=[person, box]',
                                      'planner.stamped=true'],
                           use_sim_time=True)
    assert profile.namespace == '/fleet/robot2'
    params = profile.node('planner').parameters
    assert params['max_linear_speed'] == 1.0 and isinstance(params['max_linear_speed'], float)
    assert params['stop_classes'] == ['person', 'box'] and params['stamped'] is True
    assert params['use_sim_time'] is True and profile.use_sim_time


def test_yaml_int_for_a_string_parameter_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"--set planner.target_class=0: parameter target_class: "
                                          r"expected a string, got the number 0; quote it"):
        load_profile(write(tmp_path, MINIMAL), overrides=['planner.target_class=0'])
    profile = load_profile(write(tmp_path, MINIMAL), overrides=["planner.target_class='0'"])
    assert profile.node('planner').parameters['target_class'] == '0'


def test_paths_resolve_against_package_root_in_profiles_and_cwd_on_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = 'nodes:\n  inference: {type: inference, parameters: {model_path: models/x.pt}}\n'
    profile = load_profile(write(tmp_path, text))
    assert profile.node('inference').parameters['model_path'] == str(package_root() / 'models/x.pt')
    profile = load_profile(write(tmp_path, text), model_path='mine.pt')
    assert profile.node('inference').parameters['model_path'] == str(tmp_path / 'mine.pt')
    profile = load_profile(write(tmp_path, text), overrides=['inference.model_path=/abs/m.pt'])
    assert profile.node('inference').parameters['model_path'] == '/abs/m.pt'


def test_qos_overrides_name_the_resolved_topic(tmp_path):
    text = """
nodes:
  planner:
    type: planner
    remappings: {cmd_vel: base/cmd_vel}
    qos:
      cmd_vel: {publisher: {reliability: best_effort, depth: 1}}
      detections: {subscription: {history: keep_last}}
      /clock: {subscription: {depth: 5}}
"""
    params = load_profile(write(tmp_path, text), namespace='r1').node('planner').parameters
    assert params['qos_overrides./r1/base/cmd_vel.publisher.reliability'] == 'best_effort'
    assert params['qos_overrides./r1/base/cmd_vel.publisher.depth'] == 1
    assert params['qos_overrides./r1/detections.subscription.history'] == 'keep_last'
    assert params['qos_overrides./clock.subscription.depth'] == 5


def test_profile_wide_remappings_apply_to_every_node_after_its_own(tmp_path):
    text = '''
remappings: {/clock: clock, odom: base/odom}
nodes:
  planner: {type: planner, remappings: {odom: wheel/odom}}
  other: {type: planner}
'''
    profile = load_profile(write(tmp_path, text), namespace='r2')
    assert profile.node('planner').remappings == [('odom', 'wheel/odom'), ('/clock', 'clock')]
    assert profile.node('other').remappings == [('/clock', 'clock'), ('odom', 'base/odom')]
    assert profile.node('other').resolve_topic('/clock') == '/r2/clock'
    assert profile.remappings == [('/clock', 'clock'), ('odom', 'base/odom')]


def test_ros_arguments_and_params_file(tmp_path):
    text = MINIMAL + '    remappings: {cmd_vel: /base/cmd_vel}\n'
    node = load_profile(write(tmp_path, text), namespace='r1',
                        overrides=['planner.stop_classes=[]', "planner.target_class=a b"]).node('planner')
    assert node.ros_arguments('/tmp/p.yaml') == [
        '--ros-args', '-r', '__node:=planner', '-r', '__ns:=/r1', '--params-file', '/tmp/p.yaml',
        '-r', 'cmd_vel:=/base/cmd_vel']
    args = node.ros_arguments()
    assert args[args.index('-p') + 1] == 'use_sim_time:=false'
    assert 'max_linear_speed:=0.3' in args and 'target_class:=a b' in args
    assert yaml.safe_load(node.params_yaml()) == {'/r1/planner': {'ros__parameters': node.parameters}}
    assert node.parameters['stop_classes'] == []


def test_environment_keeps_what_the_user_set():
    profile = load_profile('gazebo')
    user = {'FASTDDS_DEFAULT_PROFILES_FILE': '/etc/my_dds.xml', 'PATH': '/usr/bin'}
    updates = profile.environment_updates(user)
    assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in updates
    assert updates['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SYSTEM_DEFAULT'
    assert 'glibc.malloc.trim_threshold' in updates['GLIBC_TUNABLES']
    assert profile.environment({})['FASTDDS_DEFAULT_PROFILES_FILE'] == str(dds_profile('local'))


def test_unknown_robot_lists_the_available_profiles():
    with pytest.raises(ConfigError) as err:
        load_profile('no_such_robot')
    message = str(err.value)
    assert "unknown robot 'no_such_robot'" in message
    for name in SHIPPED:
        assert name in message


PLANNER = 'nodes:\n  planner: {type: planner}\n'
BAD = [
    ('nodes:\n  cam: {type: lidar}\n',
     r"nodes\.cam\.type: unknown node type 'lidar'; known: camera, inference"),
    ('nodes:\n  planner: {type: planner, parameters: {speed: 1.0}}\n',
     r"nodes\.planner\.parameters\.speed: unknown parameter 'speed'; known: .*max_linear_speed"),
    ('nodes:\n  planner: {type: planner, parameters: {max_linear_speed: fast}}\n',
     r"nodes\.planner\.parameters\.max_linear_speed: parameter max_linear_speed: expected double, "
     r"got 'fast'"),
    ('nodes:\n  planner: {type: planner, parameters: {max_linear_speed: 99.0}}\n',
     r'nodes\.planner\.parameters\.max_linear_speed: .*out of range \(in \[0\.0, 10\.0\]\)'),
    ('nodes:\n  planner: {type: planner, parameters: {behavior: dance}}\n', r"'dance' is not accepted"),
    ('robot: bot\nnode:\n  planner: {type: planner}\n', r'node: unknown key; accepted: robot, description'),
    ('nodes:\n  planner: {type: planner, params: {}}\n', r'nodes\.planner\.params: unknown key'),
    ('nodes:\n  planner: {parameters: {}}\n', r'nodes\.planner: expected a mapping with a type'),
    ('nodes:\n  2planner: {type: planner}\n', r"nodes\.2planner: '2planner' is not a valid ROS node name"),
    ('nodes: {}\n', r'nodes: expected a mapping of node name'),
    ('nodes:\n  planner: {type: planner\n', r'not valid YAML'),
    ('- a\n- b\n', r'expected a mapping with keys'),
    ('namespace: 1robot\n' + PLANNER, r"namespace: '1robot' is not a valid ROS namespace"),
    ('use_sim_time: yes please\n' + PLANNER, r'use_sim_time: expected true or false'),
    ('dds_profile: cyclone\n' + PLANNER, r"dds_profile: unknown DDS profile 'cyclone'"),
    ('nodes:\n  planner: {type: planner, remappings: {cmd_vel: "bad topic"}}\n',
     r"nodes\.planner\.remappings\.cmd_vel: 'bad topic' is not a valid ROS topic name"),
    ('nodes:\n  planner: {type: planner, qos: {cmd_vel: {publisher: {durability: transient_local}}}}\n',
     r'nodes\.planner\.qos\.cmd_vel\.publisher\.durability: unknown QoS policy'),
    ('nodes:\n  planner: {type: planner, qos: {cmd_vel: {publisher: {reliability: sometimes}}}}\n',
     r"qos\.cmd_vel\.publisher\.reliability: 'sometimes' is not accepted; one of reliable"),
    ('nodes:\n  planner: {type: planner, qos: {cmd_vel: {publisher: {depth: 0}}}}\n',
     r'qos\.cmd_vel\.publisher\.depth: expected an integer >= 1'),
    ('nodes:\n  planner: {type: planner, parameters: {qos_overrides./cmd_vel.publisher.depth: 1}}\n',
     r"set QoS with the node's qos: mapping"),
    (PLANNER + 'gz_bridge:\n  - {ros: a, gz: /a, type: t, gz_type: g, direction: up}\n',
     r"gz_bridge\[0\]\.direction: 'up' is not accepted"),
    (PLANNER + 'gz_bridge:\n  - {ros: a, gz: /a}\n',
     r'gz_bridge\[0\]: type, gz_type missing'),
]


@pytest.mark.parametrize(('text', 'expected'), BAD)
def test_bad_profile_names_file_key_and_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as err:
        load_profile(path)
    assert str(err.value).startswith(f'{path}: ')


@pytest.mark.parametrize(('kwargs', 'expected'), [
    ({'overrides': ['camera.fps=5']}, r"--set camera\.fps=5: the profile .*bot\.yaml has no node 'camera'; "
                                      r'its nodes: planner'),
    ({'overrides': ['planner.speed=1']}, r"--set planner\.speed=1: unknown parameter 'speed'"),
    ({'overrides': ['planner=1']}, r'--set planner=1: expected NODE\.PARAM=VALUE'),
    ({'overrides': ['planner.stop_classes=[a']}, r'the value is not valid YAML'),
    ({'model_path': 'm.pt'}, r'--model-path: the profile .* has no inference node'),
    ({'namespace': 'robot-1'}, r"--namespace: 'robot-1' is not a valid ROS namespace"),
])
def test_bad_command_line_overrides(tmp_path, kwargs, expected):
    with pytest.raises(ConfigError, match=expected):
        load_profile(write(tmp_path, MINIMAL), **kwargs)


def test_missing_profile_file(tmp_path):
    with pytest.raises(ConfigError, match=r'robot profile file .*nothere\.yaml does not exist'):
        load_profile(tmp_path / 'nothere.yaml')


@pytest.mark.parametrize(('text', 'node', 'param', 'value'), [
    ('inference.score_threshold=0.4', 'inference', 'score_threshold', 0.4),
    ('sim.seed=3', 'sim', 'seed', 3),
    ('planner.stop_classes=[person]', 'planner', 'stop_classes', ['person']),
    ('camera.source=/dev/video0', 'camera', 'source', '/dev/video0'),
    ('planner.target_class=', 'planner', 'target_class', ''),
    ('a.qos_overrides./x.publisher.depth=2', 'a', 'qos_overrides./x.publisher.depth', 2),
])
def test_parse_override(text, node, param, value):
    assert parse_override(text) == (node, param, value)


@pytest.mark.parametrize(('text', 'expected'), [
    ('', ''), ('/', ''), ('robot1', '/robot1'), ('/robot1/', '/robot1'), ('fleet//a_1', '/fleet/a_1'),
])
def test_normalize_namespace(text, expected):
    assert normalize_namespace(text) == expected
