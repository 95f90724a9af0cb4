"""Parameters of the 3D stage node (plain data; see physical_ai.params.ParamSpec).

`class_depths` is a list of "class:depth" strings (metres): how far an object of the class
reaches along the camera ray, so that its centre is put half of it behind the visible surface.
"""

from physical_ai.params import ParamSpec

PARAMS: tuple[ParamSpec, ...] = (
    # Matching detections with depth images
    ParamSpec('sync_slop', 0.02,
              'Largest stamp difference (s) between detections and the depth image they are matched with.',
              min_value=0.0, max_value=10.0),
    ParamSpec('queue_size', 10,
              'Depth images (and detections waiting for theirs) kept for matching; at least the '
              "detector's latency times the camera rate.", min_value=1, max_value=100),
    # Depth of an object
    ParamSpec('min_range', 0.1, 'Depths below this (m) are not readings.', min_value=0.0, max_value=100.0),
    ParamSpec('max_range', 20.0, 'Depths beyond this (m) are not used.', min_value=0.01, max_value=1000.0),
    ParamSpec('cluster_gap', 0.15,
              'Sorted depths of a box split into surfaces where they jump by more than this (m) plus '
              'cluster_gap_fraction of the depth.', min_value=0.0, max_value=10.0),
    ParamSpec('cluster_gap_fraction', 0.03, 'Depth-proportional part of the surface split (fraction).',
              min_value=0.0, max_value=1.0),
    ParamSpec('min_fraction', 0.15,
              "The object's surface is the nearest one holding at least this fraction of the box's "
              'valid depths.', min_value=0.01, max_value=1.0),
    ParamSpec('near_percentile', 5.0, 'Percentile of that surface taken as its front (robust to noise).',
              min_value=0.0, max_value=50.0),
    ParamSpec('min_pixels', 10, 'Boxes with fewer valid depth pixels get no 3D position.',
              min_value=1, max_value=100000),
    ParamSpec('class_depths', ['person:0.3', 'box:0.45'],
              'Extent (m) of a class along the camera ray, as "class:depth"; other classes take the '
              "box's smaller side (exact for balls and cylinders)."),
    # Output
    ParamSpec('target_frame', '',
              'Frame of detections_3d; empty = the depth image\'s frame (camera optical). Another frame '
              'is looked up in tf / tf_static.', read_only=True),
    ParamSpec('tf_tolerance', 0.1,
              'Transforms may be this much older (s) than a frame before it is left out.',
              min_value=0.0, max_value=10.0),
    ParamSpec('markers', True, 'Publish detections_3d/markers (rviz) while something subscribes.'),
    ParamSpec('max_message_bytes', 65536,
              'Detections messages larger than this (serialized bytes) are ignored unread.',
              min_value=1024, max_value=64 * 1024 * 1024),
    ParamSpec('max_image_bytes', 64 * 1024 * 1024,
              'Depth images larger than this (serialized bytes) are ignored unread.',
              min_value=1024, max_value=1024 * 1024 * 1024),
)
