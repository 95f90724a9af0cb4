"""Parameters of the inference node (TorchScript detector on camera images)."""

from physical_ai.params import ParamSpec

# The same tuple as physical_ai.core.detection.model.FORMATS (kept literal: no torch import here).
FORMATS = ('auto', 'yolov8', 'yolov5', 'torchvision', 'physical_ai')
# The same tuple as physical_ai.core.runtime.BACKENDS.
BACKENDS = ('torch', 'openvino', 'onnxruntime')

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec('model_path', '', 'TorchScript model file (a local file; nothing is ever downloaded).',
              read_only=True),
    ParamSpec('model_sha256', '', 'Expected sha256 of the model file (64 hex digits); a mismatch refuses '
              'the model. Empty: no pin.', read_only=True),
    ParamSpec('model_format', 'auto', 'Output layout: auto (what the file says, else its output shapes), '
              'yolov8 [1, 4+nc, N], yolov5 [1, N, 5+nc], torchvision (boxes/labels/scores), physical_ai '
              '(physical_ai.json, [N, 6]).', choices=FORMATS, read_only=True),
    ParamSpec('labels', [], 'Class names in index order, or one entry: a file with one name per line. '
              'Empty: the names the model file carries.', kind='string[]', read_only=True),
    ParamSpec('input_size', [], 'Input tensor size [height, width]. Empty: the size the model file '
              'carries (torchvision: the image size).', kind='integer[]', min_value=1, max_value=8192,
              read_only=True),
    ParamSpec('letterbox', True, 'Keep the aspect ratio and pad to the input size (false: stretch).',
              read_only=True),
    ParamSpec('device', 'cpu', "Where the model runs: 'cpu', 'cuda' or 'cuda:N'.", read_only=True),
    ParamSpec('half', False, 'Run in float16 (CUDA only; ignored with a warning on CPU).', read_only=True),
    ParamSpec('threads', 0, 'Intra-op threads of torch (for this process) and of the backend; 0 keeps '
              'their default.', min_value=0, max_value=256, read_only=True),
    ParamSpec('backend', 'torch', 'Runtime for the TorchScript file: torch, or openvino / onnxruntime '
              '(converted at configure, cached on disk, checked against TorchScript on a probe input; CPU).',
              choices=BACKENDS, read_only=True),
    ParamSpec('backend_cache', '', 'Folder of converted models (keyed by model sha256 and backend version). '
              'Empty: $PHYSICAL_AI_CACHE/runtime, else ~/.cache/physical_ai/runtime.', read_only=True),
    ParamSpec('score_threshold', 0.25, 'Minimum score of a detection.', min_value=0.0, max_value=1.0),
    ParamSpec('nms_iou', 0.45, 'Boxes of one class overlapping a better one by more than this IoU are '
              'dropped.', min_value=0.0, max_value=1.0),
    ParamSpec('max_detections', 100, 'Most detections published per image (best scores first).',
              min_value=1, max_value=10000),
    ParamSpec('classes', [], 'Publish only these class names (or indices as text). Empty: all.',
              kind='string[]'),
    ParamSpec('publish_annotated', True, 'Publish detections/image (boxes drawn) while it has '
              'subscribers.'),
    ParamSpec('autostart', True, 'Configure and activate right after start-up (false: wait for the '
              'lifecycle services).', read_only=True),
)
