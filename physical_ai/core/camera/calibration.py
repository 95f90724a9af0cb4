"""Camera calibration in the YAML format of ROS camera_calibration / camera_calibration_parsers.

`load_calibration(url)` reads and validates a file (a path, `file://` URL or `package://pkg/path`);
`Calibration.scaled(w, h)` adapts the intrinsics to another frame size; `camera_info(...)` fills a
sensor_msgs/CameraInfo, zeroed (width and height only) when the camera is uncalibrated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
import math
import os
from pathlib import Path
import sys
from typing import Any

from sensor_msgs.msg import CameraInfo
import yaml

from physical_ai.core.errors import ConfigError

# distortion_model -> number of coefficients (sensor_msgs/distortion_models).
DISTORTION_MODELS = {'plumb_bob': 5, 'rational_polynomial': 8, 'equidistant': 4}
IDENTITY3 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
URL_FORMS = 'a path, file:///absolute/path.yaml or package://<package>/<path>'


@dataclass(frozen=True)
class Calibration:
    """Intrinsics of a monocular camera at the frame size it was calibrated at (row-major matrices)."""

    width: int
    height: int
    k: tuple[float, ...]
    d: tuple[float, ...]
    r: tuple[float, ...] = IDENTITY3
    p: tuple[float, ...] = ()
    distortion_model: str = 'plumb_bob'
    camera_name: str = ''
    source: str = ''

    def __post_init__(self) -> None:
        if not self.p:  # a monocular camera without rectification: P = [K | 0]
            k = self.k
            p = (*k[0:3], 0.0, *k[3:6], 0.0, *k[6:9], 0.0)
            object.__setattr__(self, 'p', p)

    def scaled(self, width: int, height: int) -> Calibration:
        """Return the calibration for frames of another size (K and P scaled; D and R unchanged).

        Scales as image_proc's resize does: fx, cx and P's first row by width ratio, fy, cy and P's
        second row by height ratio. Valid for a resized image, not for a crop.
        """
        if (width, height) == (self.width, self.height):
            return self
        sx, sy = width / self.width, height / self.height
        k = list(self.k)
        k[0], k[2] = k[0] * sx, k[2] * sx
        k[4], k[5] = k[4] * sy, k[5] * sy
        p = list(self.p)
        for i in range(4):
            p[i] *= sx
            p[4 + i] *= sy
        return replace(self, width=width, height=height, k=tuple(k), p=tuple(p))


def resolve_url(url: str) -> Path:
    """Return the file a camera_info_url names; raise ConfigError for a scheme other than file/package."""
    if url.startswith('file://'):
        return Path(url[len('file://'):]).expanduser()
    if url.startswith('package://'):
        package, _, rest = url[len('package://'):].partition('/')
        if not package or not rest:
            raise ConfigError(f'camera_info_url {url!r}: expected package://<package>/<path>')
        prefixes = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
        prefixes.append(sys.prefix)
        for prefix in prefixes:
            candidate = Path(prefix) / 'share' / package / rest
            if candidate.is_file():
                return candidate
        raise ConfigError(f'camera_info_url {url!r}: no file share/{package}/{rest} in any ament prefix '
                          f'({", ".join(prefixes)})')
    if '://' in url:
        raise ConfigError(f'camera_info_url {url!r}: unsupported URL scheme; accepted: {URL_FORMS}')
    return Path(url).expanduser()


def load_calibration(url: str) -> Calibration:
    """Read a camera_calibration_parsers YAML file; raise ConfigError naming the file and the problem."""
    path = resolve_url(url)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f'camera_info_url {url!r}: file {path} does not exist; '
                          f'accepted: {URL_FORMS}') from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f'camera_info_url {url!r}: cannot read {path}: {err}') from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, 'problem_mark', None)
        at = f' at line {where.line + 1}' if where is not None else ''
        raise ConfigError(f'camera_info_url {url!r}: {path} is not valid YAML{at}: '
                          f'{getattr(err, "problem", None) or err}') from None
    return parse_calibration(data, str(path))


def parse_calibration(data: Any, source: str = '<calibration>') -> Calibration:
    """Validate the mapping of a calibration file and return it as a Calibration."""

    def fail(why: str) -> ConfigError:
        return ConfigError(f'calibration {source}: {why} (camera_calibration_parsers YAML expected: '
                           'image_width, image_height, camera_matrix, distortion_model, '
                           'distortion_coefficients, rectification_matrix, projection_matrix)')

    if not isinstance(data, Mapping):
        raise fail(f'expected a mapping, found {type(data).__name__}')
    width, height = data.get('image_width'), data.get('image_height')
    for key, value in (('image_width', width), ('image_height', height)):
        if value is None:
            raise fail(f'{key} is missing')
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise fail(f'{key} must be a positive integer, found {value!r}')
    k = _matrix(data, 'camera_matrix', 3, 3, fail)
    if k[0] <= 0 or k[4] <= 0:
        raise fail(f'camera_matrix focal lengths must be positive, found fx={k[0]}, fy={k[4]}')
    model = data.get('distortion_model', 'plumb_bob')  # older files omit it; the parsers assume plumb_bob
    if model not in DISTORTION_MODELS:
        raise fail(f'distortion_model {model!r} is not one of {", ".join(DISTORTION_MODELS)}')
    d = _matrix(data, 'distortion_coefficients', 1, None, fail)
    if len(d) != DISTORTION_MODELS[model]:
        raise fail(f'{model} needs {DISTORTION_MODELS[model]} distortion coefficients, found {len(d)}')
    r = _matrix(data, 'rectification_matrix', 3, 3, fail)
    p = _matrix(data, 'projection_matrix', 3, 4, fail)
    name = data.get('camera_name', '')
    return Calibration(width=width, height=height, k=k, d=d, r=r, p=p, distortion_model=model,
                       camera_name=str(name) if name is not None else '', source=source)


def _matrix(data: Mapping[str, Any], key: str, rows: int, cols: int | None, fail: Any) -> tuple[float, ...]:
    entry = data.get(key)
    if entry is None:
        raise fail(f'{key} is missing')
    if not isinstance(entry, Mapping) or 'data' not in entry:
        raise fail(f'{key} must be a mapping with rows, cols and data')
    values = entry['data']
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise fail(f'{key}.data must be a list of numbers')
    got_rows, got_cols = entry.get('rows', rows), entry.get('cols', cols if cols is not None else len(values))
    if got_rows != rows or cols is not None and got_cols != cols:
        raise fail(f'{key} must be {rows}x{cols if cols is not None else "N"}, found {got_rows}x{got_cols}')
    if len(values) != got_rows * got_cols:
        raise fail(f'{key} is {got_rows}x{got_cols} but has {len(values)} values')
    out = []
    for v in values:
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            raise fail(f'{key}.data holds {v!r}, not a finite number')
        out.append(float(v))
    return tuple(out)


def camera_info(calibration: Calibration | None, width: int, height: int,
                msg: CameraInfo | None = None) -> CameraInfo:
    """Fill a CameraInfo (header untouched) for frames of `width` x `height`.

    Uncalibrated: width and height only, matrices zeroed (the CameraInfo convention). Calibrated:
    the calibration, scaled when the frame size differs from the calibrated one.
    """
    msg = msg or CameraInfo()
    msg.width, msg.height = int(width), int(height)
    if calibration is None:
        msg.distortion_model = ''
        msg.d = []
        msg.k = [0.0] * 9
        msg.r = [0.0] * 9
        msg.p = [0.0] * 12
        return msg
    cal = calibration.scaled(width, height)
    msg.distortion_model = cal.distortion_model
    msg.d = list(cal.d)
    msg.k = list(cal.k)
    msg.r = list(cal.r)
    msg.p = list(cal.p)
    return msg
