"""Launch files: they compile, declare documented arguments, and take every decision from the profiles module.

The ROS 2 launch system is not installable from the registry, so these files are checked by
their syntax tree; what they decide is tested through physical_ai.core.profiles.
"""

import ast
from pathlib import Path
import py_compile

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ROOT / 'launch'
# Names the launch files may import, as the launch/launch_ros APIs (Humble and later) spell them.
KNOWN_API = {
    'launch': {'LaunchDescription'},
    'launch.actions': {'DeclareLaunchArgument', 'ExecuteProcess', 'GroupAction', 'IncludeLaunchDescription',
                       'LogInfo', 'OpaqueFunction', 'SetEnvironmentVariable'},
    'launch.launch_description_sources': {'PythonLaunchDescriptionSource'},
    'launch.substitutions': {'LaunchConfiguration'},
    'launch_ros.actions': {'Node', 'PushROSNamespace', 'PushRosNamespace'},
    'ament_index_python.packages': {'get_package_share_directory', 'PackageNotFoundError'},
    'physical_ai.core.profiles': {'load_profile'},
    'physical_ai.core.network': {'discovery_server_command'},
    'physical_ai.core.errors': {'ConfigError'},
}


def tree(name):
    return ast.parse((LAUNCH / name).read_text(), filename=name)


def arguments(module):
    """Return {name: (default, description)} from the module's ARGUMENTS table."""
    for node in module.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'ARGUMENTS':
            table = ast.literal_eval(node.value)
            return {name: (default, description) for name, default, description in table}
    raise AssertionError('no ARGUMENTS table')


def calls(module, name):
    return [n for n in ast.walk(module) if isinstance(n, ast.Call)
            and (getattr(n.func, 'id', None) == name or getattr(n.func, 'attr', None) == name)]


def imports(module):
    out = {}
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom):
            out.setdefault(node.module, set()).update(a.name for a in node.names)
    return out


@pytest.mark.parametrize('name', ['robot.launch.py', 'gazebo.launch.py'])
def test_compiles_and_imports_only_known_api(name, tmp_path):
    py_compile.compile(str(LAUNCH / name), cfile=str(tmp_path / 'out.pyc'), doraise=True)
    module = tree(name)
    for source, names in imports(module).items():
        assert source in KNOWN_API, source
        assert names <= KNOWN_API[source], (source, names - KNOWN_API[source])
    functions = {n.name for n in module.body if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in functions
    # Every argument is declared from the table, with its description.
    declare = calls(module, 'DeclareLaunchArgument')
    assert len(declare) == 1 and {k.arg for k in declare[0].keywords} == {'default_value', 'description'}


def test_robot_launch_arguments_are_documented():
    args = arguments(tree('robot.launch.py'))
    assert list(args) == ['robot', 'namespace', 'use_sim_time', 'model_path', 'rviz']
    for name, (default, description) in args.items():
        assert isinstance(default, str) and len(description) > 20, name
    assert args['robot'][0] == 'sim' and args['rviz'][0] == 'false'


def test_robot_launch_reads_the_profile_at_launch_time():
    module = tree('robot.launch.py')
    opaque = calls(module, 'OpaqueFunction')
    assert len(opaque) == 1 and opaque[0].keywords[0].value.id == 'launch_setup'
    setup = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == 'launch_setup')
    inner = {getattr(c.func, 'id', getattr(c.func, 'attr', None))
             for c in ast.walk(setup) if isinstance(c, ast.Call)}
    # The decisions come from the profiles module; the file only wraps them.
    assert {'load_profile', 'environment_updates', 'SetEnvironmentVariable', 'PushROSNamespace', 'Node',
            'GroupAction'} <= inner
    node_calls = [{k.arg: ast.unparse(k.value) for k in c.keywords} for c in calls(setup, 'Node')]
    keywords = next(k for k in node_calls if k['package'] == 'node.package')
    assert keywords['executable'] == 'node.executable'
    assert keywords['name'] == 'node.name' and keywords['parameters'] == '[node.parameters]'
    assert keywords['remappings'] == 'node.remappings'
    rviz = next(k for k in node_calls if k['package'] == "'rviz2'")
    assert rviz['remappings'] == 'profile.remappings' and 'profile.use_sim_time' in rviz['parameters']
    assert "'physical_ai.rviz'" in ast.unparse(setup)


def test_gazebo_launch_includes_robot_launch_with_sim_time_and_bridges():
    module = tree('gazebo.launch.py')
    assert set(arguments(module)) == {'robot', 'namespace', 'model_path', 'rviz'}
    assert arguments(module)['robot'][0] == 'gazebo'
    include = calls(module, 'IncludeLaunchDescription')
    assert len(include) == 1
    text = ast.unparse(include[0])
    assert "'use_sim_time': 'true'" in text and "'robot': LaunchConfiguration('robot')" in text
    assert "'robot.launch.py'" in ast.unparse(module)
    setup = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == 'bridge_setup')
    source = ast.unparse(setup)
    assert 'PackageNotFoundError' in source and "get_package_share_directory('ros_gz_bridge')" in source
    assert 'NOT installed' in source and 'bridge_command' in source
    bridge = [c for c in calls(setup, 'Node') if 'parameter_bridge' in ast.unparse(c)]
    keywords = {k.arg: ast.unparse(k.value) for k in bridge[0].keywords}
    assert keywords['arguments'] == 'profile.bridge_arguments()'
    assert keywords['remappings'] == 'profile.bridge_remappings()'


def test_rviz_config_shows_camera_detections_and_target():
    config = yaml.safe_load((ROOT / 'config/rviz/physical_ai.rviz').read_text())
    manager = config['Visualization Manager']
    displays = {d['Class']: [] for d in manager['Displays']}
    for d in manager['Displays']:
        if 'Topic' in d:
            displays[d['Class']].append(d['Topic']['Value'])
    assert displays['rviz_default_plugins/Image'] == ['camera/image_raw', 'detections/image']
    assert displays['rviz_default_plugins/MarkerArray'] == ['planner/target']
    assert manager['Global Options']['Fixed Frame'] in ('camera_optical_frame', 'base_link')


def test_launch_and_config_are_installed():
    setup = (ROOT / 'setup.py').read_text()
    assert "tree('launch', f'share/{PACKAGE}/launch')" in setup
    assert "tree('config', f'share/{PACKAGE}/config')" in setup
