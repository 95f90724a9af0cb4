"""The demo's figures: one result per episode, the printed report and runs/<timestamp>/summary.json.

Latency definitions (both measured by the demo's monitor for every cmd_vel message it receives):
- `latency_ms` (detection to command): wall time since the newest `detections` message arrived.
  The planner commands at a fixed rate from the newest detections, so this is how stale the
  detections behind a command are, transport included.
- `frame_age_ms` (camera to command): the node clock (simulated time) at the command minus the
  header stamp of the newest detections, which is the camera frame's stamp: the whole path from
  the rendered frame through inference and planning to the command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """Return the count, p50 and p99 of `values` (None when empty)."""
    if not values:
        return {'count': 0, 'p50': None, 'p99': None}
    arr = np.asarray(values, dtype=float)
    return {'count': int(arr.size), 'p50': float(np.percentile(arr, 50)),
            'p99': float(np.percentile(arr, 99))}


def distribution(values: Sequence[float]) -> dict[str, float | int | None]:
    """Return count, mean, std, min and max of `values` (None when empty)."""
    if not values:
        return {'count': 0, 'mean': None, 'std': None, 'min': None, 'max': None}
    arr = np.asarray(values, dtype=float)
    return {'count': int(arr.size), 'mean': float(arr.mean()), 'std': float(arr.std()),
            'min': float(arr.min()), 'max': float(arr.max())}


@dataclass
class EpisodeResult:
    """What one episode did, as printed and as written to summary.json."""

    scenario: str
    seed: int
    kind: str
    success: bool
    reason: str
    final_distance: float | None = None
    distance_error: float | None = None
    stop_error: float | None = None  # distance_error when the robot stopped at the target
    closest_stop_object: float | None = None
    safety_distance: float | None = None
    sim_time: float = 0.0
    wall_time: float = 0.0
    camera_frames: int = 0
    frames_processed: int = 0
    inference_rate_hz: float = 0.0
    real_time_factor: float = 0.0
    latency_ms: dict[str, Any] = field(default_factory=dict)
    frame_age_ms: dict[str, Any] = field(default_factory=dict)
    planner_state: str = ''
    planner_reason: str = ''
    video: str | None = None
    recording: str | None = None
    log: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return asdict(self)


def _ms(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.1f} ms'


def _m(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.3f} m'


def format_episode(result: EpisodeResult) -> str:
    """Return the short report of one episode."""
    lat, age = result.latency_ms, result.frame_age_ms
    lines = [
        f'{result.scenario} (seed {result.seed}): {"SUCCESS" if result.success else "FAILURE"}: '
        f'{result.reason}',
        f'  final distance to the target   {_m(result.final_distance)}'
        + (f' (error {result.distance_error:+.3f} m)' if result.distance_error is not None else ''),
    ]
    if result.closest_stop_object is not None:
        line = f'  closest stop-class object      {_m(result.closest_stop_object)}'
        if result.safety_distance is not None:
            line += (f' (safety_distance {result.safety_distance:g} m, '
                     f'{result.closest_stop_object - result.safety_distance:+.3f} m)')
        lines.append(line)
    lines += [
        f'  time taken                     {result.sim_time:.1f} s simulated, {result.wall_time:.1f} s wall '
        f'(real-time factor {result.real_time_factor:.2f})',
        f'  frames processed               {result.frames_processed} of {result.camera_frames} camera frames',
        f'  inference rate                 {result.inference_rate_hz:.1f} Hz',
        f'  detection-to-command latency   p50 {_ms(lat.get("p50"))}, p99 {_ms(lat.get("p99"))} '
        f'({lat.get("count", 0)} commands)',
        f'  camera-to-command latency      p50 {_ms(age.get("p50"))}, p99 {_ms(age.get("p99"))}',
        f'  planner at the end             {result.planner_state}'
        + (f' ({result.planner_reason})' if result.planner_reason else ''),
    ]
    for label, path in (('video', result.video), ('recording', result.recording)):
        if path:
            lines.append(f'  {label:<31}{path}')
    return '\n'.join(lines)


def batch_summary(results: Sequence[EpisodeResult]) -> dict[str, Any]:
    """Return the success rate and the distribution of stop-distance errors of a run."""
    errors = [r.stop_error for r in results if r.stop_error is not None and math.isfinite(r.stop_error)]
    closest = [r.closest_stop_object for r in results if r.closest_stop_object is not None]
    inside = sum(r.closest_stop_object is not None and r.safety_distance is not None
                 and r.closest_stop_object < r.safety_distance for r in results)
    succeeded = sum(r.success for r in results)
    return {
        'episodes': len(results),
        'succeeded': succeeded,
        'success_rate': succeeded / len(results) if results else 0.0,
        'target_episodes': sum(r.kind == 'target' for r in results),
        'stop_distance_error_m': distribution(errors),
        'closest_stop_object_m': {**distribution(closest), **{
            key: value for key, value in percentiles(closest).items() if key != 'count'}},
        'inside_safety_distance': inside,
        'wall_time_s': sum(r.wall_time for r in results),
    }


def format_batch(results: Sequence[EpisodeResult]) -> str:
    """Return the report of several episodes: success rate and stop-distance error distribution."""
    summary = batch_summary(results)
    err = summary['stop_distance_error_m']
    lines = [f'success rate {summary["succeeded"]}/{summary["episodes"]} '
             f'({100.0 * summary["success_rate"]:.0f} %), {summary["wall_time_s"]:.0f} s wall in all']
    if summary['target_episodes']:
        missing = summary['target_episodes'] - err['count']
        text = (f'stop-distance error over the {err["count"]} target episodes that stopped at the target'
                + (f' ({missing} did not)' if missing else ''))
        if err['count']:
            text += (f': mean {err["mean"]:+.3f} m, std {err["std"]:.3f} m, min {err["min"]:+.3f} m, '
                     f'max {err["max"]:+.3f} m')
        lines.append(text)
    near = summary['closest_stop_object_m']
    if near['count']:
        lines.append(f'closest approach of a stop-class object over {near["count"]} episodes: '
                     f'min {near["min"]:.3f} m, p50 {near["p50"]:.3f} m, mean {near["mean"]:.3f} m, '
                     f'max {near["max"]:.3f} m; {summary["inside_safety_distance"]} inside safety_distance')
        values = sorted(r.closest_stop_object for r in results if r.closest_stop_object is not None)
        lines.append('  per episode, sorted (m): ' + ' '.join(f'{v:.2f}' for v in values))
    failed = [r for r in results if not r.success]
    for r in failed:
        lines.append(f'  failed: {r.scenario} seed {r.seed}: {r.reason}')
    return '\n'.join(lines)


def write_summary(path: str | Path, results: Iterable[EpisodeResult], **extra: Any) -> Path:
    """Write summary.json: overall success, the batch figures, every episode; return its path."""
    results = list(results)
    data = {'success': bool(results) and all(r.success for r in results), **batch_summary(results),
            **extra, 'results': [r.to_dict() for r in results]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + '\n')
    return path
