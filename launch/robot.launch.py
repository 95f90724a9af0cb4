"""Start a robot profile's nodes: `ros2 launch physical_ai robot.launch.py robot:=sim`.

Which nodes run, with which parameters, remappings and namespace, comes from
config/robots/<robot>.yaml through physical_ai.core.profiles, the module `physical-ai up` uses
too; this file only wraps its answer in launch_ros actions. The profile is read at launch time
(OpaqueFunction), so an invalid profile stops the launch before any node starts; so does
`rviz:=true` on a machine without rviz2 (a Node action of a missing package would fail only after
the other nodes had started, leaving them running).
"""

import os

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from launch.actions import DeclareLaunchArgument, GroupAction, LogInfo, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription

try:
    from launch_ros.actions import PushROSNamespace
except ImportError:  # Humble spells it PushRosNamespace
    from launch_ros.actions import PushRosNamespace as PushROSNamespace

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import load_profile

ARGUMENTS = (
    ('robot', 'sim', 'Robot profile: a name in config/robots (sim, gazebo, usb_camera_diffdrive, ...) '
                     'or the path of a profile YAML file.'),
    ('namespace', '', 'Namespace for every node, e.g. robot1 (empty: the profile\'s namespace).'),
    ('use_sim_time', '', 'true or false: use /clock on every node (empty: the profile\'s setting).'),
    ('model_path', '', 'TorchScript model file for the inference node (empty: the profile\'s).'),
    ('rviz', 'false', 'true: also start rviz2 with config/rviz/physical_ai.rviz (fixed frame odom: TF, '
                      'robot model, odometry, camera, detections, planner markers).'),
)


def _flag(context, name):
    text = LaunchConfiguration(name).perform(context).strip().lower()
    if text not in ('', 'true', 'false'):
        raise RuntimeError(f'robot.launch.py: {name}:={text} is not accepted; use true or false')
    return None if text == '' else text == 'true'


def launch_setup(context, *args, **kwargs):
    """Read the profile with the launch arguments and return the actions that start it."""
    robot = LaunchConfiguration('robot').perform(context)
    namespace = LaunchConfiguration('namespace').perform(context).strip()
    model_path = LaunchConfiguration('model_path').perform(context).strip()
    try:
        profile = load_profile(robot, namespace=namespace or None, model_path=model_path or None,
                               use_sim_time=_flag(context, 'use_sim_time'))
    except ConfigError as err:
        raise RuntimeError(f'robot.launch.py: {err}') from None

    rviz = _flag(context, 'rviz')
    if rviz:
        try:
            get_package_share_directory('rviz2')
        except PackageNotFoundError:
            raise RuntimeError('robot.launch.py: rviz:=true but rviz2 is not installed (apt install '
                               'ros-$ROS_DISTRO-rviz2); no node was started') from None

    # DDS profile with shared memory for full-size images, malloc tuning: only where the user has
    # not set them already.
    actions = [SetEnvironmentVariable(key, value)
               for key, value in profile.environment_updates(context.environment).items()]
    # The Fast DDS Discovery Server, when the profile's network asks this host to run it (docs/network.md).
    if profile.network.start_server:
        from launch.actions import ExecuteProcess

        from physical_ai.core.network import discovery_server_command

        actions.append(ExecuteProcess(cmd=discovery_server_command(profile.network), name='discovery_server',
                                      output='screen'))
    actions.append(LogInfo(msg=f'robot {profile.name!r}: '
                               + ', '.join(n.fully_qualified_name for n in profile.nodes)))
    group = [PushROSNamespace(profile.namespace.lstrip('/'))] if profile.namespace else []
    for node in profile.nodes:
        # The safety gate comes back after a crash (engaged, if it was: its latch is in a file).
        group.append(Node(package=node.package, executable=node.executable, name=node.name,
                          parameters=[node.parameters], remappings=node.remappings,
                          respawn=node.respawn, respawn_delay=1.0 if node.respawn else 0.0,
                          output='screen', emulate_tty=True))
    if rviz:
        rviz_config = os.path.join(get_package_share_directory('physical_ai'), 'config', 'rviz',
                                   'physical_ai.rviz')
        group.append(Node(package='rviz2', executable='rviz2', name='rviz2', arguments=['-d', rviz_config],
                          parameters=[{'use_sim_time': profile.use_sim_time}],
                          remappings=profile.remappings, output='screen'))
    actions.append(GroupAction(group, scoped=True))
    return actions


def generate_launch_description():
    """Declare the arguments; the nodes are decided at launch time by launch_setup."""
    return LaunchDescription([
        *(DeclareLaunchArgument(name, default_value=default, description=description)
          for name, default, description in ARGUMENTS),
        OpaqueFunction(function=launch_setup),
    ])
