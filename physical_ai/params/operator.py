"""Parameters of the operator station node (plain data; see physical_ai.params.ParamSpec)."""

from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec('robots', [], 'Namespaces of the robots to follow (robot1, /fleet/robot2); empty: every '
              'namespace in which an image topic shows up.', kind='string[]', read_only=True),
    ParamSpec('discover', True, 'Also follow robots found in the graph (namespaces publishing image_topic).',
              read_only=True),
    ParamSpec('image_topic', 'camera/image_raw', 'Image topic of each robot, relative to its namespace.',
              read_only=True),
    ParamSpec('detections_topic', 'detections', 'Detections topic of each robot, relative to its namespace.',
              read_only=True),
    ParamSpec('e_stop_topic', 'e_stop', 'E-stop topic (std_msgs/Bool, reliable, transient local) of each '
              'robot, relative to its namespace.', read_only=True),
    ParamSpec('rate_window', 5.0, 'Seconds over which arrival rates are measured.', min_value=0.5,
              max_value=120.0, read_only=True),
    ParamSpec('discover_period', 1.0, 'Seconds between looks at the graph for new robots.', min_value=0.1,
              max_value=60.0, read_only=True),
)
