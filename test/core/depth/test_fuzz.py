"""Property tests: the 3D stage's logic never raises on arbitrary depths, boxes and stamp orders."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import numpy as np

from physical_ai.core.depth.estimate import Camera, DepthSettings, box_region, locate
from physical_ai.core.depth.sync import ApproximateSync

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CAMERA = Camera(100.0, 100.0, 4.0, 3.0, 8, 6)
values = st.floats(allow_nan=True, allow_infinity=True, width=32)
coordinate = st.floats(-1e4, 1e4, allow_nan=False)


@FUZZ
@given(st.lists(values, min_size=48, max_size=48), coordinate, coordinate,
       st.floats(0.01, 1e4), st.floats(0.01, 1e4))
def test_locate_returns_a_finite_object_or_none(pixels, cx, cy, w, h):
    depth = np.array(pixels, dtype=np.float32).reshape(6, 8)
    depth[~np.isfinite(depth) | (depth <= 0)] = np.nan
    obj = locate(box_region(depth, cx, cy, w, h), CAMERA, 'ball', cx, cy, w, h, DepthSettings(min_pixels=1))
    if obj is not None:
        assert all(math.isfinite(v) for v in (*obj.centre, *obj.size)) and obj.centre[2] > 0.0


@FUZZ
@given(st.lists(st.tuples(st.booleans(), st.floats(-10.0, 10.0)), max_size=60))
def test_sync_counts_every_primary_once(events):
    sync = ApproximateSync(slop=0.05, queue_size=4)
    paired = 0
    for is_primary, stamp in events:
        add = sync.add_primary if is_primary else sync.add_secondary
        paired += len(add(stamp, stamp))
    c = sync.counters
    assert paired == c.matched
    assert c.matched + c.unmatched + c.dropped + sync.waiting <= c.primaries
