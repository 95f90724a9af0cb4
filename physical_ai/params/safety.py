"""Parameters of the safety gate node (plain data; see physical_ai.params.ParamSpec).

Command sources are parallel lists, one entry per source:
  input_names: [planner, teleop]
  input_topics: [planner/cmd_vel, teleop/cmd_vel]
  input_priorities: [10, 100]          # the highest-priority fresh source wins
  input_types: [Twist, TwistStamped]   # optional; empty = every input is geometry_msgs/Twist
"""

from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    # Sources
    ParamSpec('input_names', ['planner'], 'Names of the command sources (diagnostics, logs).',
              read_only=True),
    ParamSpec('input_topics', ['planner/cmd_vel'],
              'Topic of each command source (relative names take the namespace).', read_only=True),
    ParamSpec('input_priorities', [10],
              'Priority of each source: the highest-priority source with a fresh command wins.',
              read_only=True),
    ParamSpec('input_types', [], 'Message type of each source, Twist or TwistStamped; empty: all Twist.',
              kind='string[]', read_only=True, choices=('Twist', 'TwistStamped')),
    ParamSpec('cmd_timeout', 0.5,
              'No command from any source within this many seconds (steady clock) -> zero velocity.',
              min_value=0.01, max_value=10.0),
    # E-stop
    ParamSpec('state_file', '',
              'File that keeps the e-stop latch across restarts; empty: '
              '$ROS_HOME/physical_ai/<namespace>_<node>.e_stop.json (ROS_HOME defaults to ~/.ros).',
              read_only=True),
    ParamSpec('startup_hold', 1.0,
              'Zero velocity for this long (s) after start, so that e-stop publishers are discovered '
              'and heard before any command passes.',
              min_value=0.0, max_value=60.0, read_only=True),
    ParamSpec('deadman_timeout', 0.0,
              'Deadman mode: without a true on heartbeat (std_msgs/Bool) within this many seconds '
              '(steady clock) the base is held at zero; 0 turns the mode off.',
              min_value=0.0, max_value=60.0),
    # Limits: the last word on every command
    ParamSpec('max_linear_speed', 0.5, 'Forward speed limit (m/s).', min_value=0.0, max_value=10.0),
    ParamSpec('max_reverse_speed', 0.2, 'Backward speed limit (m/s).', min_value=0.0, max_value=10.0),
    ParamSpec('max_lateral_speed', 0.0,
              'Sideways speed limit (m/s) for holonomic bases; 0 passes no linear.y.',
              min_value=0.0, max_value=10.0),
    ParamSpec('max_angular_speed', 1.0, 'Turn rate limit (rad/s).', min_value=0.0, max_value=20.0),
    ParamSpec('max_linear_accel', 1.0,
              'How fast speed may grow (m/s^2); slowing down and stopping are never limited.',
              min_value=0.0, max_value=50.0),
    ParamSpec('max_angular_accel', 2.0,
              'How fast turn rate may grow (rad/s^2); slowing down is never limited.',
              min_value=0.0, max_value=100.0),
    # Output
    ParamSpec('rate', 20.0,
              'cmd_vel is published at least this often (Hz, steady clock), zero when nothing fresh.',
              min_value=1.0, max_value=500.0, read_only=True),
    ParamSpec('stamped', False, 'Publish geometry_msgs/TwistStamped instead of Twist on cmd_vel.',
              read_only=True),
    ParamSpec('base_frame', 'base_link', 'frame_id of TwistStamped commands.', read_only=True),
)
