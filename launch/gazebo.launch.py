"""Run the stack against Gazebo: `ros2 launch physical_ai gazebo.launch.py [world:=demo]`.

With world:=SCENARIO it writes that scenario's world and robot as SDF (physical_ai.gazebo_world,
from the scenario file the embedded simulator reads) and starts `gz sim -r` on it; without, Gazebo
must already run with a world of yours.

Includes robot.launch.py with the `gazebo` profile and use_sim_time (default true), and starts the
ros_gz_bridge parameter_bridge for the topics the profile's `gz_bridge` section lists (camera,
camera_info, cmd_vel, odom, /clock), renamed to the topics the nodes use. When ros_gz_bridge is not
installed it says so and prints the bridge command to run once it is; world:=... without the `gz`
command stops the launch before any node starts.
"""

import os
from pathlib import Path
import shlex
import shutil
import tempfile

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    GroupAction,
    IncludeLaunchDescription,
    LogInfo,
    OpaqueFunction,
)
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

try:
    from launch_ros.actions import PushROSNamespace
except ImportError:  # Humble spells it PushRosNamespace
    from launch_ros.actions import PushRosNamespace as PushROSNamespace

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import load_profile
from physical_ai.gazebo_world import write_world

ARGUMENTS = (
    ('robot', 'gazebo', 'Robot profile with a gz_bridge section (default: gazebo).'),
    ('namespace', '', 'Namespace for every node and the bridged topics, e.g. robot1 (empty: the '
                      'profile\'s).'),
    ('use_sim_time', 'true', 'true: every node and the bridge run on Gazebo\'s /clock (bridged); false: '
                             'wall-clock time.'),
    ('model_path', '', 'TorchScript model file for the inference node (empty: the profile\'s).'),
    ('rviz', 'false', 'true: also start rviz2 with config/rviz/physical_ai.rviz.'),
    ('world', '', 'Scenario to start gz sim on (a name in config/scenarios such as demo, or a YAML path), '
                  'written as an SDF world with the robot; empty: Gazebo already runs your world.'),
    ('seed', '0', 'Seed of the generated world (positions, sizes, colours), as the simulator\'s seed.'),
)


def _sim_time(context):
    text = LaunchConfiguration('use_sim_time').perform(context).strip().lower()
    if text not in ('true', 'false'):
        raise RuntimeError(f'gazebo.launch.py: use_sim_time:={text} is not accepted; use true or false')
    return text == 'true'


def world_setup(context, *args, **kwargs):
    """Return `gz sim` on the generated world of world:=SCENARIO, or nothing when world is empty."""
    world = LaunchConfiguration('world').perform(context).strip()
    if not world:
        return []
    if shutil.which('gz') is None:
        raise RuntimeError(f'gazebo.launch.py: world:={world} needs Gazebo (the gz command), which is not '
                           'installed (apt install ros-$ROS_DISTRO-ros-gz); no node was started')
    seed = LaunchConfiguration('seed').perform(context).strip()
    try:
        paths = write_world(world, int(seed), Path(tempfile.mkdtemp(prefix='physical_ai_gz_')),
                            LaunchConfiguration('robot').perform(context))
    except ValueError:
        raise RuntimeError(f'gazebo.launch.py: seed:={seed} is not an integer') from None
    except ConfigError as err:
        raise RuntimeError(f'gazebo.launch.py: {err}') from None
    return [LogInfo(msg=f'gazebo.launch.py: world {paths["world"]}'),
            ExecuteProcess(cmd=['gz', 'sim', '-r', str(paths['world'])], name='gz_sim', output='screen')]


def bridge_setup(context, *args, **kwargs):
    """Return the ros_gz_bridge node for the profile's gz_bridge topics, or a note why there is none."""
    namespace = LaunchConfiguration('namespace').perform(context).strip()
    try:
        profile = load_profile(LaunchConfiguration('robot').perform(context), namespace=namespace or None,
                               use_sim_time=_sim_time(context))
    except ConfigError as err:
        raise RuntimeError(f'gazebo.launch.py: {err}') from None
    if not profile.gz_bridge:
        return [LogInfo(msg=f'gazebo.launch.py: profile {profile.name!r} lists no gz_bridge topics; '
                            'no bridge started')]
    try:
        get_package_share_directory('ros_gz_bridge')
    except PackageNotFoundError:
        return [LogInfo(msg='gazebo.launch.py: ros_gz_bridge is NOT installed, so no Gazebo topic is '
                            f'bridged ({", ".join(t.ros for t in profile.gz_bridge)}). Install it '
                            '(apt install ros-$ROS_DISTRO-ros-gz-bridge) or run a bridge yourself: '
                            + shlex.join(profile.bridge_command()))]
    group = [PushROSNamespace(profile.namespace.lstrip('/'))] if profile.namespace else []
    group.append(Node(package='ros_gz_bridge', executable='parameter_bridge', name='gz_bridge',
                      arguments=profile.bridge_arguments(), remappings=profile.bridge_remappings(),
                      parameters=[{'use_sim_time': profile.use_sim_time}], output='screen'))
    return [GroupAction(group, scoped=True)]


def generate_launch_description():
    """Declare the arguments, include robot.launch.py and add the bridge."""
    robot_launch = os.path.join(get_package_share_directory('physical_ai'), 'launch', 'robot.launch.py')
    return LaunchDescription([
        *(DeclareLaunchArgument(name, default_value=default, description=description)
          for name, default, description in ARGUMENTS),
        OpaqueFunction(function=world_setup),  # first: a missing gz stops the launch before any node
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(robot_launch),
            launch_arguments={
                'robot': LaunchConfiguration('robot'),
                'namespace': LaunchConfiguration('namespace'),
                'use_sim_time': LaunchConfiguration('use_sim_time'),
                'model_path': LaunchConfiguration('model_path'),
                'rviz': LaunchConfiguration('rviz'),
            }.items()),
        OpaqueFunction(function=bridge_setup),
    ])
