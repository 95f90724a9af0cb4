"""Multi-object tracking: persistent ids for detector boxes across frames (no rclpy)."""

from physical_ai.core.tracking.bytetrack import Tracker, TrackerConfig, iou_matrix

__all__ = ['Tracker', 'TrackerConfig', 'iou_matrix']
