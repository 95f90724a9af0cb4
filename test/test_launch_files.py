"""Launch files: ros2launch finds them; they compile, declare documented arguments, use profiles.

The ROS 2 launch system is not installable from the registry, so these files are checked by
their syntax tree; what they decide is tested through physical_ai.core.profiles. How
`ros2 launch PKG FILE` finds FILE is reproduced exactly: the package's share folder from the
ament index, then os.walk over it without following links.
"""

import ast
import os
from pathlib import Path
import py_compile
import shlex
import sys

from ament_index_python.packages import get_package_share_directory
import pytest
import yaml

from physical_ai import ament_prefix
from physical_ai.core.profiles import load_profile

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
    'os': set(), 'pathlib': {'Path'}, 'shlex': set(), 'shutil': set(), 'tempfile': set(),  # standard library
    'physical_ai.gazebo_world': {'write_world'},
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
        elif isinstance(node, ast.Import):
            for alias in node.names:
                out.setdefault(alias.name, set())
    return out


def ros2launch_find(package, file_name):
    """Return the path `ros2 launch package file_name` runs (ros2launch's lookup), or None."""
    share = get_package_share_directory(package)
    for root, _dirs, files in os.walk(share):  # followlinks=False, as ros2launch
        if file_name in files:
            return Path(root) / file_name
    return None


@pytest.mark.parametrize('name', ['robot.launch.py', 'gazebo.launch.py'])
def test_ros2_launch_finds_the_launch_files_in_the_venv(name, monkeypatch):
    monkeypatch.setenv('AMENT_PREFIX_PATH', sys.prefix)
    share = Path(sys.prefix) / 'share/physical_ai'
    assert Path(get_package_share_directory('physical_ai')) == share
    found = ros2launch_find('physical_ai', name)
    assert found == share / 'launch' / name
    # A link to the source file (edits show at once), in a real folder.
    assert not (share / 'launch').is_symlink() and found.resolve() == LAUNCH / name


def test_the_prefix_mirrors_folders_as_folders_of_file_links(tmp_path, monkeypatch):
    prefix = tmp_path / 'prefix'
    share = prefix / 'share/physical_ai'
    share.mkdir(parents=True)
    # What older versions made: folder links, which os.walk does not enter.
    os.symlink(LAUNCH, share / 'launch', target_is_directory=True)
    (share / 'config').mkdir()
    (share / 'config' / 'stale.yaml').write_text('removed from the source tree\n')
    ament_prefix.install(prefix)
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    for name in ('robot.launch.py', 'gazebo.launch.py'):
        assert ros2launch_find('physical_ai', name) == share / 'launch' / name
    links = dirs = 0
    for root, folders, files in os.walk(share):
        for folder in folders:
            assert not (Path(root) / folder).is_symlink(), folder
            dirs += 1
        for file in files:
            path = Path(root) / file
            assert path.is_symlink() and path.resolve() == ROOT / path.relative_to(share), path
            links += 1
    assert not (share / 'config' / 'stale.yaml').exists()
    assert (share / 'config/rviz/physical_ai.rviz').is_file() and links > 10 and dirs >= 5
    assert ament_prefix.install(prefix) == []  # a second run changes nothing


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
    assert set(arguments(module)) == {'robot', 'namespace', 'use_sim_time', 'model_path', 'rviz', 'world',
                                      'seed'}
    assert arguments(module)['robot'][0] == 'gazebo' and arguments(module)['use_sim_time'][0] == 'true'
    include = calls(module, 'IncludeLaunchDescription')
    assert len(include) == 1
    text = ast.unparse(include[0])
    # use_sim_time:=false reaches every node (it used to be replaced by a fixed 'true').
    assert "'use_sim_time': LaunchConfiguration('use_sim_time')" in text
    assert "'robot': LaunchConfiguration('robot')" in text
    assert "'robot.launch.py'" in ast.unparse(module)
    setup = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == 'bridge_setup')
    source = ast.unparse(setup)
    assert 'PackageNotFoundError' in source and "get_package_share_directory('ros_gz_bridge')" in source
    assert 'NOT installed' in source and 'bridge_command' in source
    bridge = [c for c in calls(setup, 'Node') if 'parameter_bridge' in ast.unparse(c)]
    keywords = {k.arg: ast.unparse(k.value) for k in bridge[0].keywords}
    assert keywords['arguments'] == 'profile.bridge_arguments()'
    assert keywords['remappings'] == 'profile.bridge_remappings()'
    assert 'profile.use_sim_time' in keywords['parameters'] and '_sim_time(context)' in source
    assert 'shlex.join(profile.bridge_command())' in source


@pytest.mark.parametrize('sim_time', [True, False])
def test_printed_bridge_command_survives_a_shell(sim_time):
    # The arguments hold [ ] @ : a shell that globs (zsh stops with "no matches found") or splits
    # must get them back unchanged from what is printed.
    profile = load_profile('gazebo', namespace='robot1', use_sim_time=sim_time)
    command = profile.bridge_command()
    printed = shlex.join(command)
    assert shlex.split(printed) == command
    assert all(part.startswith("'") for part in printed.split() if '[' in part or ']' in part)
    assert ('use_sim_time:=true' in command) == sim_time
    assert 'shlex.join(profile.bridge_command())' in (ROOT / 'physical_ai/runner.py').read_text()


def test_rviz_without_rviz2_stops_before_any_node_starts():
    setup = next(n for n in tree('robot.launch.py').body
                 if isinstance(n, ast.FunctionDef) and n.name == 'launch_setup')
    check = next(c for c in calls(setup, 'get_package_share_directory') if "'rviz2'" in ast.unparse(c))
    first_node = min(c.lineno for c in calls(setup, 'Node'))
    assert check.lineno < first_node
    handler = next(n for n in ast.walk(setup) if isinstance(n, ast.Try)
                   and check in list(ast.walk(n)))
    assert 'PackageNotFoundError' in ast.unparse(handler.handlers[0].type)
    assert 'rviz2 is not installed' in ast.unparse(handler.handlers[0])


def test_rviz_config_shows_the_robot_in_the_world():
    config = yaml.safe_load((ROOT / 'config/rviz/physical_ai.rviz').read_text())
    manager = config['Visualization Manager']
    displays = {d['Class']: [] for d in manager['Displays']}
    for d in manager['Displays']:
        topic = d.get('Topic') or d.get('Description Topic')
        if topic:
            displays[d['Class']].append(topic['Value'])
    assert manager['Global Options']['Fixed Frame'] == 'odom'
    assert displays['rviz_default_plugins/Camera'] == ['camera/image_raw']
    assert displays['rviz_default_plugins/Image'] == ['detections/image']
    assert displays['rviz_default_plugins/MarkerArray'] == ['planner/target', 'detections_3d/markers']
    assert displays['rviz_default_plugins/Odometry'] == ['odom']
    assert displays['rviz_default_plugins/RobotModel'] == ['robot_description']
    assert 'rviz_default_plugins/TF' in displays
    assert all(not t.startswith('/') for topics in displays.values() for t in topics)  # namespaced


def test_launch_and_config_are_installed():
    setup = (ROOT / 'setup.py').read_text()
    assert "tree('launch', f'share/{PACKAGE}/launch')" in setup
    assert "tree('config', f'share/{PACKAGE}/config')" in setup


def test_gazebo_world_needs_gz_before_any_node_starts():
    module = tree('gazebo.launch.py')
    generate = next(n for n in module.body
                    if isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description')
    actions = [ast.unparse(e) for e in ast.walk(generate) if isinstance(e, ast.Call)
               and getattr(e.func, 'id', '') in ('OpaqueFunction', 'IncludeLaunchDescription')]
    assert actions[0] == 'OpaqueFunction(function=world_setup)'
    setup = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == 'world_setup')
    source = ast.unparse(setup)
    assert source.index("shutil.which('gz')") < source.index('write_world(') < source.index('ExecuteProcess(')
    assert "['gz', 'sim', '-r', str(paths['world'])]" in source
