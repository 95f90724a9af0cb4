"""Parameters of the simulator node (plain data; see physical_ai.params.ParamSpec).

Settings that shape the world or the renderer are read-only (restart to change them); the
real-time factor, camera rate and base limits can change at run time.
"""

from physical_ai.core.sim.camera import MAX_FOVY, MAX_HEIGHT, MAX_WIDTH, MIN_FOVY, MIN_SIZE
from physical_ai.core.sim.gl import CHOICES as GL_CHOICES
from physical_ai.core.sim.scenario import CLASSES
from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    # World
    ParamSpec('scenario', 'demo',
              'Scenario: a name in config/scenarios (demo, person_in_path) or a path to a YAML file.',
              read_only=True),
    ParamSpec('seed', 0, 'Random seed: positions within the jitter, sizes, colours, lighting.',
              min_value=0, max_value=2**31 - 1, read_only=True),
    ParamSpec('target_class', '', 'Class of the scenario\'s target object; empty = as in the scenario.',
              choices=('', *CLASSES), read_only=True),
    ParamSpec('person_xy', [], 'Position [x, y] (m, world) of the first person; empty = as in the scenario.',
              kind='double[]', read_only=True),
    ParamSpec('start_pose', [], 'Robot start pose [x, y, yaw] (m, rad, world); empty = as in the scenario.',
              kind='double[]', read_only=True),
    ParamSpec('timestep', 0.002, 'Fixed simulation step (s); commands apply at step boundaries.',
              min_value=0.0005, max_value=0.02, read_only=True),
    ParamSpec('real_time_factor', 1.0, 'Sim seconds per wall second; 0 = as fast as possible.',
              min_value=0.0, max_value=100.0),
    ParamSpec('paused', False, 'Hold simulated time: no physics steps, no camera, odom or tf while true; '
              '/clock repeats the current time. Set it false to start or resume (the demo starts each '
              'episode paused and resumes it once every node of the graph is up).'),
    ParamSpec('start_subscribers', 0,
              'Before the first step and after every pause, hold time until camera/image_raw has this many '
              'matched subscriptions (at most 5 s of wall time, then run with a warning); 0 = never wait. '
              'The demo sets it to the subscriptions it sees when it resumes: a subscriber the graph shows '
              'may not be matched by the simulator yet, and frames published before are lost to it.',
              min_value=0, max_value=1000),
    # Camera
    ParamSpec('camera_width', 640, 'Image width (pixels).', min_value=MIN_SIZE, max_value=MAX_WIDTH,
              read_only=True),
    ParamSpec('camera_height', 480, 'Image height (pixels).', min_value=MIN_SIZE, max_value=MAX_HEIGHT,
              read_only=True),
    ParamSpec('camera_rate', 15.0, 'Images per second of sim time.', min_value=0.1, max_value=120.0),
    ParamSpec('camera_fovy', 60.0, 'Vertical field of view (degrees); fy = (height / 2) / tan(fovy / 2).',
              min_value=MIN_FOVY, max_value=MAX_FOVY, read_only=True),
    ParamSpec('camera_fx', 0.0, 'Focal length (pixels, fx = fy); 0 = from camera_fovy.',
              min_value=0.0, max_value=100000.0, read_only=True),
    ParamSpec('camera_mount_height', 0.3, 'Camera height above the floor (m) (the planner\'s camera_height).',
              min_value=0.1, max_value=2.0, read_only=True),
    ParamSpec('camera_pitch', 0.0, 'Camera pitch (rad), positive looking down (the planner\'s camera_pitch).',
              min_value=-1.5, max_value=1.5, read_only=True),
    ParamSpec('camera_antialias', 0, 'Multisample antialiasing samples (0 = off; 4 costs about 3x).',
              choices=(0, 2, 4, 8), read_only=True),
    ParamSpec('camera_frame', 'camera_optical_frame',
              'frame_id of images, camera_info and ground truth (optical: z forward, x right, y down).',
              read_only=True),
    ParamSpec('ground_truth', True,
              'Publish sim/ground_truth and sim/ground_truth_3d (costs a segmentation pass per image, about '
              'two thirds of an RGB pass).'),
    ParamSpec('ground_truth_rate', 0.0,
              'Ground truth per second of sim time, with the first image at or after each period (its '
              'stamp); 0 = with every image. Lower saves segmentation passes on a slow machine.',
              min_value=0.0, max_value=120.0),
    ParamSpec('depth', 'on_demand',
              'Aligned depth on camera/depth/image_raw and camera/depth/camera_info (read from the colour '
              'pass): on_demand = only while something subscribes to either, always, or never.',
              choices=('on_demand', 'always', 'never')),
    ParamSpec('depth_encoding', '32FC1',
              'Depth image encoding (REP 118): 32FC1 metres with NaN where nothing is hit, or 16UC1 '
              'millimetres with 0 there.', choices=('32FC1', '16UC1'), read_only=True),
    ParamSpec('min_visible_pixels', 4, 'Objects with fewer visible pixels are left out of the ground truth.',
              min_value=1, max_value=100000, read_only=True),
    # Base
    ParamSpec('cmd_vel_stamped', False, 'Subscribe cmd_vel as geometry_msgs/TwistStamped instead of Twist.',
              read_only=True),
    ParamSpec('cmd_timeout', 0.5, 'A command older than this (s, sim time) counts as zero: the base stops.',
              min_value=0.01, max_value=60.0),
    ParamSpec('max_linear_speed', 1.0, 'Base speed limit (m/s), forward and backward.',
              min_value=0.01, max_value=10.0),
    ParamSpec('max_angular_speed', 2.0, 'Base turn rate limit (rad/s).', min_value=0.01, max_value=20.0),
    ParamSpec('max_linear_accel', 1.0, 'Base acceleration limit (m/s^2).', min_value=0.01, max_value=50.0),
    ParamSpec('max_angular_accel', 3.0, 'Base angular acceleration limit (rad/s^2).',
              min_value=0.01, max_value=100.0),
    # Outputs
    ParamSpec('odom_rate', 50.0, 'odom and sim/pose messages per second of sim time.',
              min_value=1.0, max_value=500.0, read_only=True),
    ParamSpec('clock_rate', 100.0, '/clock messages per second of sim time.',
              min_value=1.0, max_value=1000.0, read_only=True),
    ParamSpec('odom_frame', 'odom', 'frame_id of odom and parent of base_frame on /tf (the start pose).',
              read_only=True),
    ParamSpec('base_frame', 'base_link', 'child_frame_id of odom; base of the robot (REP 105), on the floor.',
              read_only=True),
    ParamSpec('camera_link_frame', 'camera_link',
              'Camera body frame (x forward, z up) between base_frame and camera_frame on /tf_static.',
              read_only=True),
    ParamSpec('publish_tf', True,
              'Publish odom_frame -> base_frame on /tf (at odom_rate, the stamps and poses of odom) and the '
              'camera mount base_frame -> camera_link_frame -> camera_frame on /tf_static; false when '
              'another node (robot_state_publisher with the URDF, a localizer) publishes them.',
              read_only=True),
    ParamSpec('world_frame', 'world', 'frame_id of sim/pose (the true pose).', read_only=True),
    # Rendering
    ParamSpec('gl_backend', 'auto',
              'OpenGL backend: auto (MUJOCO_GL if set, else EGL, then OSMesa), egl or osmesa.',
              choices=GL_CHOICES, read_only=True),
    ParamSpec('render_threads', 0,
              'Threads of Mesa\'s software renderer (LP_NUM_THREADS); 0 = the environment\'s, else 1.',
              min_value=0, max_value=64, read_only=True),
)
