"""Parameters of the camera node (plain data; see physical_ai.params.ParamSpec)."""

from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec('source', 'test_pattern',
              "What to capture: 'test_pattern' (moving synthetic scene); a V4L2 device index ('0') or path "
              "('/dev/video0', '/dev/v4l/by-id/...'); a video file; a directory, image file or glob of "
              "images; a stream URL (rtsp://, http://, ...); a GStreamer pipeline ending in appsink.",
              read_only=True),
    ParamSpec('width', 640, 'Frame width requested from a device, and of the test pattern; 0: the '
              "device's default. Files and streams keep their own size.", min_value=0, max_value=16384,
              read_only=True),
    ParamSpec('height', 480, 'Frame height requested from a device, and of the test pattern; 0: the '
              "device's default.", min_value=0, max_value=16384, read_only=True),
    ParamSpec('fps', 30.0, 'Publish rate cap (Hz); also the rate requested from a device and the pace of '
              'image folders, the test pattern and video files that declare no rate (others play at '
              'their own rate).', min_value=0.1, max_value=1000.0),
    ParamSpec('pixel_format', 'MJPG', "Pixel format requested from a V4L2 device; 'driver' keeps the "
              "driver's choice.", choices=('MJPG', 'YUYV', 'driver'), read_only=True),
    ParamSpec('loop', True, 'Start a video file or image list again at its end (false: stop publishing).'),
    ParamSpec('encoding', 'bgr8', 'Encoding of camera/image_raw.', choices=('bgr8', 'rgb8', 'mono8')),
    ParamSpec('frame_id', 'camera_optical_frame', 'frame_id of the image and camera_info headers (an '
              'optical frame: z forward, x right, y down).'),
    ParamSpec('camera_info_url', '', 'Calibration file in camera_calibration_parsers YAML: a path, '
              'file:///path or package://<package>/<path>. Empty: uncalibrated (CameraInfo carries the '
              'size only).', read_only=True),
    ParamSpec('publish_compressed', False, 'Also publish camera/image_raw/compressed (JPEG) while it has '
              'subscribers.', read_only=True),
    ParamSpec('jpeg_quality', 80, 'JPEG quality of camera/image_raw/compressed.', min_value=1, max_value=100),
    ParamSpec('timeout', 5.0, 'Seconds a stream may take to open or deliver a frame, or a device to deliver '
              'one (whole seconds), before it counts as lost.', min_value=0.1, max_value=120.0,
              read_only=True),
)
