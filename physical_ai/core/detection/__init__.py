"""TorchScript object detection without rclpy: model loading, preprocessing, decoding, NMS, drawing."""

from physical_ai.core.detection.annotate import draw_detections
from physical_ai.core.detection.detector import Detection, Detector, DetectorOptions
from physical_ai.core.detection.model import FORMATS, Model, ModelError, ModelInfo, load_model
from physical_ai.core.detection.preprocess import Placement, Preprocessor, as_color, placement

__all__ = ['FORMATS', 'Detection', 'Detector', 'DetectorOptions', 'Model', 'ModelError', 'ModelInfo',
           'Placement', 'Preprocessor', 'as_color', 'draw_detections', 'load_model', 'placement']
