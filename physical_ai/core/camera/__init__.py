"""Camera ingest without rclpy: sources, calibration, the capture thread and output conversion."""

from physical_ai.core.camera.calibration import Calibration, camera_info, load_calibration
from physical_ai.core.camera.capture import Backoff, Capture, CaptureStats, Frame, Pacer, RateLimiter
from physical_ai.core.camera.output import OUTPUT_ENCODINGS, compress_jpeg, to_encoding
from physical_ai.core.camera.sources import (
    ACCEPTED_FORMS,
    Source,
    SourceEndedError,
    SourceError,
    SourceOptions,
    create_source,
    parse_source,
)

__all__ = [
    'ACCEPTED_FORMS', 'OUTPUT_ENCODINGS', 'Backoff', 'Calibration', 'Capture', 'CaptureStats', 'Frame',
    'Pacer', 'RateLimiter', 'Source', 'SourceEndedError', 'SourceError', 'SourceOptions', 'camera_info',
    'compress_jpeg', 'create_source', 'load_calibration', 'parse_source', 'to_encoding',
]
