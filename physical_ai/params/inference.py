"""Parameters of the inference node (TorchScript detector on camera images)."""

from physical_ai.params import ParamSpec

# The same tuple as physical_ai.core.detection.model.FORMATS (kept literal: no torch import here).
FORMATS = ('auto', 'yolov8', 'yolov5', 'torchvision', 'physical_ai')
# The same tuple as physical_ai.core.runtime.BACKENDS.
BACKENDS = ('torch', 'openvino', 'onnxruntime')
GRAPHS = ('optimized', 'frozen', 'loaded')

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
    ParamSpec('streams', 1, 'Frames the model runs at once, each on a model thread of its own with '
              'threads / streams intra-op threads (CPU streams). 1: the shortest time per frame. 2 on two '
              'cores behind a camera faster than the model: more detections per second, each frame taking '
              'longer (docs/performance.md). Detections are published in image order either way.',
              min_value=1, max_value=16, read_only=True),
    ParamSpec('graph', 'optimized', 'What runs of the TorchScript graph: optimized (torch.jit.freeze + '
              'optimize_for_inference, where it computes the same), frozen (torch.jit.freeze only) or '
              'loaded (as loaded). Small detectors ran 1.2-2x faster optimized; the YOLOv8n-cost graph '
              'ran fastest frozen (docs/performance.md). backend torch only.', choices=GRAPHS,
              read_only=True),
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
    # Tracking (physical_ai/core/tracking): persistent ids in Detection2D.id
    ParamSpec('tracking', True, 'Give each detection a persistent track id in Detection2D.id '
              '(ByteTrack-class association; empty id: not yet tracked). false: ids stay empty.'),
    ParamSpec('track_high_score', 0.4, 'Detections scored at least this are matched first, against every '
              'track, and may start new ones.', min_value=0.0, max_value=1.0),
    ParamSpec('track_low_score', 0.1, 'Detections between this and track_high_score only continue live '
              'tracks (often partly hidden objects); below it they are not tracked. Detections below '
              'score_threshold never reach the tracker.', min_value=0.0, max_value=1.0),
    ParamSpec('track_new_score', 0.45, 'Lowest score that starts a track (confirmed on its second frame).',
              min_value=0.0, max_value=1.0),
    ParamSpec('track_match_iou', 0.2, 'Least IoU between a high-score detection and a track\'s predicted box '
              'for a match.', min_value=0.0, max_value=1.0),
    ParamSpec('track_low_match_iou', 0.5, 'Least IoU for a low-score detection to continue a track.',
              min_value=0.0, max_value=1.0),
    ParamSpec('track_tentative_match_iou', 0.3, 'Least IoU to confirm a track seen once.',
              min_value=0.0, max_value=1.0),
    ParamSpec('track_lost_time', 3.0, 'A track with no detection keeps its id this long (s, by image '
              'stamps): objects hidden or out of the image for less come back under the same id.',
              min_value=0.0, max_value=600.0),
    ParamSpec('track_lost_buffer', 0.3, 'A lost track and a detection are matched on boxes grown by up to '
              'this fraction of their size, growing with the time lost (buffered IoU).',
              min_value=0.0, max_value=5.0),
    ParamSpec('autostart', True, 'Configure and activate right after start-up (false: wait for the '
              'lifecycle services).', read_only=True),
)
