"""Parameters of the planner node (plain data; see physical_ai.params.ParamSpec).

`class_heights` is a list of "class:height" strings (metres), which reads naturally in a ROS
parameter YAML:  class_heights: ["person:1.7", "ball:0.25", "box:0.4", "cylinder:0.6"]
"""

from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    # Behaviour
    ParamSpec('behavior', 'approach',
              'approach: drive to the best target detection and stop at stop_distance; follow: keep '
              'the target centred at stop_distance, backing off when it comes closer.',
              choices=('approach', 'follow')),
    ParamSpec('target_class', 'ball', 'Class name of the target (as the detector names it).'),
    ParamSpec('stop_classes', ['person'],
              'Classes the robot stops for before they come within safety_distance, whatever the '
              'target does.'),
    ParamSpec('min_score', 0.5, 'Detections scored below this are not used.', min_value=0.0, max_value=1.0),
    ParamSpec('stop_distance', 1.0, 'Distance (m) from the camera at which to stop at the target.',
              min_value=0.05, max_value=100.0),
    ParamSpec('safety_distance', 1.5,
              'Distance (m) from the camera a stop-class object must never come within: the robot '
              'slows down and stops before it, allowing for detection age, speed and braking.',
              min_value=0.0, max_value=100.0),
    ParamSpec('stop_hysteresis', 0.15,
              'Distance (m) beyond a stop threshold before motion resumes, so stops do not flicker.',
              min_value=0.0, max_value=10.0),
    ParamSpec('distance_uncertainty', 0.15,
              'Fraction by which a stop-class object\'s monocular distance is taken closer than '
              'estimated (the safe side of its error; measured within +7/-20 % at 1-2 m on the '
              'simulator with the ground-plane estimate).', min_value=0.0, max_value=0.9),
    ParamSpec('depth_uncertainty', 0.05,
              'Distance (m) by which a measured depth of a stop-class object is taken closer, when a '
              '3D stage provides one.', min_value=0.0, max_value=10.0),
    ParamSpec('brake_decel', 0.0,
              'Deceleration (m/s^2) the base delivers when told to stop; 0 = max_linear_accel.',
              min_value=0.0, max_value=50.0),
    ParamSpec('response_time', 0.1,
              'Time (s) from a stop decision until the base brakes (transport, controller period, '
              'the next planner tick), added to the measured age of the detection.',
              min_value=0.0, max_value=5.0),
    ParamSpec('time_before_collision', 1.0,
              'Approach model: near a stop-class object, forward speed is limited so that the line at '
              'safety_distance is at least this many seconds away (0 = braking distance only).',
              min_value=0.0, max_value=60.0),
    ParamSpec('safety_release_time', 0.5,
              'Time (s) with no stop-class object within reach before a safety stop is released.',
              min_value=0.0, max_value=60.0),
    # Gains
    ParamSpec('linear_gain', 0.8, 'Forward speed per metre of distance error (1/s).',
              min_value=0.0, max_value=20.0),
    ParamSpec('angular_gain', 1.5, 'Turn rate per radian of target bearing (1/s).',
              min_value=0.0, max_value=20.0),
    ParamSpec('heading_tolerance', 0.5,
              'Bearing (rad) at which forward speed has fallen to zero; the robot turns in place beyond.',
              min_value=0.01, max_value=3.14),
    # Limits (applied to every command)
    ParamSpec('max_linear_speed', 0.5, 'Forward speed limit (m/s).', min_value=0.0, max_value=10.0),
    ParamSpec('max_reverse_speed', 0.2, 'Backward speed limit (m/s), used when following.',
              min_value=0.0, max_value=10.0),
    ParamSpec('max_angular_speed', 1.0, 'Turn rate limit (rad/s).', min_value=0.0, max_value=20.0),
    ParamSpec('max_linear_accel', 1.0, 'Linear acceleration limit (m/s^2); safety stops bypass it.',
              min_value=0.0, max_value=50.0),
    ParamSpec('max_angular_accel', 2.0, 'Angular acceleration limit (rad/s^2); safety stops bypass it.',
              min_value=0.0, max_value=100.0),
    # Lost target
    ParamSpec('target_timeout', 0.3,
              'A target missing from the detections this long (s, by stamps) counts as lost.',
              min_value=0.0, max_value=10.0),
    ParamSpec('search_turn_speed', 0.4, 'Turn rate (rad/s) of the search for a lost target.',
              min_value=0.0, max_value=20.0),
    ParamSpec('search_timeout', 8.0, 'Longest search turn (s) before stopping; 0 stops at once.',
              min_value=0.0, max_value=600.0),
    # Tracking (detections with track ids, Detection2D.id)
    ParamSpec('track_lock_timeout', 2.0,
              'With track ids the planner locks onto the target\'s id and ignores other objects of the '
              'class; a locked track unseen this long (s, by stamps) is released and the target '
              're-acquired (the best-scored one near its last position). Without ids: no effect.',
              min_value=0.0, max_value=600.0),
    # Safety
    ParamSpec('max_detections', 100,
              'At most this many of the best-scored detections of a message are looked at.',
              min_value=1, max_value=100000),
    ParamSpec('detection_timeout', 0.5,
              'Watchdog: no detections stamped within this many seconds of now -> zero velocity.',
              min_value=0.01, max_value=60.0),
    # Distance estimate
    ParamSpec('class_heights', ['person:1.7', 'ball:0.25', 'box:0.4', 'cylinder:0.6'],
              'Known real height per class, as "class:height" in metres, for the distance estimate.'),
    ParamSpec('distance_method', 'height',
              'height: from class_heights; ground: from the box bottom on a flat floor (needs '
              'camera_height). Each falls back to the other when it has nothing to go on. depth: the '
              '3D position of detections_3d (a 3D stage), joined by id or by the box holding its '
              'projection; ground, then height, when a detection has none (with a diagnostic).',
              choices=('height', 'ground', 'depth')),
    ParamSpec('camera_height', 0.0,
              'Camera height above the floor (m) for the ground-plane estimate; 0 = not configured.',
              min_value=0.0, max_value=10.0),
    ParamSpec('camera_pitch', 0.0, 'Camera pitch (rad), positive looking down.',
              min_value=-1.5, max_value=1.5),
    ParamSpec('distance_filter_time', 0.3,
              'Time constant (s) of the distance low-pass filter; 0 = median of 3 frames only.',
              min_value=0.0, max_value=10.0),
    # Output and odometry
    ParamSpec('rate', 20.0, 'cmd_vel publish rate (Hz), on the node clock.',
              min_value=1.0, max_value=200.0, read_only=True),
    ParamSpec('stamped', False, 'Publish geometry_msgs/TwistStamped instead of Twist.', read_only=True),
    ParamSpec('base_frame', 'base_link', 'frame_id of TwistStamped commands.', read_only=True),
    ParamSpec('feedback', 'open_loop',
              'open_loop: accelerations limited from the last command; closed_loop: from the '
              'velocity measured by odom (when fresh).', choices=('open_loop', 'closed_loop')),
    ParamSpec('odom_timeout', 0.5, 'Odometry older than this (s) is not used for closed_loop.',
              min_value=0.01, max_value=60.0),
    # Input bounds
    ParamSpec('max_message_bytes', 65536,
              'Detections messages larger than this (serialized bytes; about 150 detections) are '
              'ignored unread, so that no message can hold the planner for long.',
              min_value=1024, max_value=64 * 1024 * 1024),
)
