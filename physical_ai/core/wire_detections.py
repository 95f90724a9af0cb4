"""vision_msgs/Detection2DArray written straight to its serialized (CDR) bytes.

A publisher hands serialized bytes to the middleware as they are (rclpy's `publish(bytes)`), so a
node that publishes a detections message per frame need not build one Python message per box and
then have rclpy convert each field: `serialize_detections` packs the same bytes from the arrays the
detector returns, in one pass. `detections_message` builds the typed message from the same
arguments; `serializer_matches` checks at start-up that rclpy reads that message back from the
bytes for the message definitions installed, so a node can fall back to the typed message where
it does not.

The bytes are plain CDR version 1, little endian (encapsulation 0x0001), what rclpy's
`serialize_message` writes for these types: 8-byte values aligned to 8 counted from the end of
the 4-byte encapsulation header, strings as a length that counts their terminating NUL (the
padding here is zeros; rclpy leaves it as the buffer held it).
"""

from __future__ import annotations

from collections.abc import Sequence
import struct

from builtin_interfaces.msg import Time
from std_msgs.msg import Header
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

_ENCAPSULATION = b'\x00\x01\x00\x00'  # CDR_LE, options 0
_STAMP = struct.Struct('<iI')
_U32 = struct.Struct('<I')
_ONE_RESULT = _U32.pack(1)
# score, pose (position xyz, orientation xyzw: identity), 36 covariance zeros, bbox centre x y theta, size x y
_HYPOTHESIS_AND_BOX = struct.Struct('<d3d4d288x3d2d')
_IDENTITY = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)


def _string(text: str) -> bytes:
    """Return `text` as a CDR string (length counting the NUL, UTF-8 bytes, NUL), for a 4-aligned offset."""
    raw = text.encode('utf-8')
    return _U32.pack(len(raw) + 1) + raw + b'\x00'


def _align(buf: bytearray, size: int) -> None:
    buf.extend(bytes(-(len(buf) - 4) % size))


def serialize_detections(stamp_sec: int, stamp_nanosec: int, frame_id: str, boxes: Sequence[Sequence[float]],
                         scores: Sequence[float], class_ids: Sequence[str], ids: Sequence[str]) -> bytes:
    """Return a serialized Detection2DArray: one Detection2D per box (x1, y1, x2, y2 in pixels).

    Each detection carries the array's header, one hypothesis (class id and score, identity pose,
    zero covariance), the box as centre and size, and its id ('' untracked): the message that
    `detections_message` builds from the same arguments.
    """
    header = _STAMP.pack(stamp_sec, stamp_nanosec) + _string(frame_id)
    names: dict[str, bytes] = {}
    out = bytearray(_ENCAPSULATION)
    out += header
    _align(out, 4)
    out += _U32.pack(len(scores))
    for (x1, y1, x2, y2), score, class_id, track_id in zip(boxes, scores, class_ids, ids, strict=True):
        _align(out, 4)
        out += header
        _align(out, 4)
        out += _ONE_RESULT
        name = names.get(class_id)
        if name is None:
            name = names[class_id] = _string(class_id)
        out += name
        _align(out, 8)
        out += _HYPOTHESIS_AND_BOX.pack(score, *_IDENTITY, (x1 + x2) / 2, (y1 + y2) / 2, 0.0,
                                        x2 - x1, y2 - y1)
        out += _string(track_id)
    return bytes(out)


def detections_message(stamp_sec: int, stamp_nanosec: int, frame_id: str, boxes: Sequence[Sequence[float]],
                       scores: Sequence[float], class_ids: Sequence[str],
                       ids: Sequence[str]) -> Detection2DArray:
    """Return the typed Detection2DArray that `serialize_detections` serializes from the same arguments."""
    header = Header(stamp=Time(sec=stamp_sec, nanosec=stamp_nanosec), frame_id=frame_id)
    out = Detection2DArray(header=header)
    for (x1, y1, x2, y2), score, class_id, track_id in zip(boxes, scores, class_ids, ids, strict=True):
        det = Detection2D(header=header, id=track_id)
        det.bbox.center.position.x = (x1 + x2) / 2
        det.bbox.center.position.y = (y1 + y2) / 2
        det.bbox.size_x = x2 - x1
        det.bbox.size_y = y2 - y1
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id = class_id
        hypothesis.hypothesis.score = score
        det.results.append(hypothesis)
        out.detections.append(det)
    return out


def serializer_matches() -> bool:
    """Return whether rclpy reads back from `serialize_detections` the message `detections_message` builds.

    The check reads the bytes back rather than comparing them with rclpy's own: its middleware leaves
    alignment padding uninitialized.
    """
    from rclpy.serialization import deserialize_message, serialize_message

    # String lengths 0..4 move the fields after them across every alignment.
    args = (7, 123_456_789, 'cam', [(1.0, 2.0, 3.5, 4.25), (0.0, 0.5, 9.0, 7.0), (5.0, 5.0, 6.0, 8.0)],
            [0.9, 0.25, 0.5], ['a', 'ball', ''], ['', '12', 'abc'])
    data, expected = serialize_detections(*args), detections_message(*args)
    try:
        return len(data) == len(serialize_message(expected)) and \
            deserialize_message(data, Detection2DArray) == expected
    except Exception:  # any failure to read the bytes back is a mismatch
        return False
