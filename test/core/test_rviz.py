"""The rviz config checker: what rviz2 subscribes to, and what a graph must offer for it."""

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import NodeDescription, load_profile
from physical_ai.core.rviz import Endpoint, check, default_config, load_config, subscriptions


def endpoint(type_name, reliable=True, transient_local=False):
    return Endpoint(type_name, reliable, transient_local)


# What the sim profile's nodes publish (sim, inference, depth, planner), as a graph shows it.
SIM_GRAPH = {
    'tf': [endpoint('tf2_msgs/msg/TFMessage')],
    'tf_static': [endpoint('tf2_msgs/msg/TFMessage', transient_local=True)],
    'robot_description': [endpoint('std_msgs/msg/String', transient_local=True)],
    'odom': [endpoint('nav_msgs/msg/Odometry')],
    'camera/image_raw': [endpoint('sensor_msgs/msg/Image', reliable=False)],
    'camera/camera_info': [endpoint('sensor_msgs/msg/CameraInfo', reliable=False)],
    'detections/image': [endpoint('sensor_msgs/msg/Image', reliable=False)],
    'planner/target': [endpoint('visualization_msgs/msg/MarkerArray')],
    'detections_3d/markers': [endpoint('visualization_msgs/msg/MarkerArray')],
}


def rviz_in(namespace):
    profile = load_profile('sim', namespace=namespace)
    node = NodeDescription('rviz2', 'rviz2', 'rviz2', '', namespace=profile.namespace,
                           remappings=list(profile.remappings))
    return node.resolve_topic, profile.namespace


@pytest.mark.parametrize('namespace', [None, 'robot1'])
def test_shipped_config_is_served_by_the_sim_graph(namespace):
    resolve, ns = rviz_in(namespace)
    subs = subscriptions(load_config(default_config()))
    displays = {s.display for s in subs}
    assert displays == {'TF', 'RobotModel', 'Odometry', 'Camera', 'Detections', 'Planner target',
                        '3D detections'}
    graph = {f'{ns}/{topic}': pubs for topic, pubs in SIM_GRAPH.items()}
    assert check(subs, graph, resolve) == []
    # The profile remaps TF into the namespace; a stack publishing on the root /tf would not do.
    assert resolve('/tf') == f'{ns}/tf'


def test_each_kind_of_problem_is_one_line():
    resolve, _ = rviz_in(None)
    subs = subscriptions(load_config(default_config()))
    graph = {f'/{topic}': pubs for topic, pubs in SIM_GRAPH.items()}
    del graph['/planner/target']
    graph['/odom'] = [endpoint('geometry_msgs/msg/PoseStamped')]
    graph['/robot_description'] = [endpoint('std_msgs/msg/String')]  # volatile: the display never gets it
    problems = check(subs, graph, resolve)
    assert problems == [
        "display 'RobotModel': /robot_description (std_msgs/msg/String): the display asks for reliable and "
        'transient local, no publisher offers it',
        "display 'Odometry': /odom (nav_msgs/msg/Odometry): published as geometry_msgs/msg/PoseStamped",
        "display 'Planner target': /planner/target (visualization_msgs/msg/MarkerArray): no publisher",
    ]


def test_unknown_display_and_bad_file_are_clear_errors(tmp_path):
    config = {'Visualization Manager': {'Displays': [{'Class': 'nav2_rviz_plugins/Costmap', 'Name': 'Map'}]}}
    with pytest.raises(ConfigError, match="display 'Map': class 'nav2_rviz_plugins/Costmap' is not known"):
        subscriptions(config)
    path = tmp_path / 'x.rviz'
    path.write_text('- just a list\n')
    with pytest.raises(ConfigError, match='not an rviz config'):
        load_config(path)
