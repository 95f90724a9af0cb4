"""Offscreen rendering of the robot's camera: RGB, aligned depth, and exact boxes from a segmentation pass.

All passes share one scene update. Depth comes from the RGB pass itself: its depth buffer is read
back after the colour (MuJoCo renders reversed Z, 1 at the near plane and 0 at the far one) and
turned into metric z-depth along the optical axis with the model's near/far planes (`metric_depth`),
NaN where no geometry was hit (REP 118). The segmentation pass draws every geom in a colour that
encodes its id (no lighting, no antialiasing), so each object's box is the extent of its visible
pixels: occlusion and the image border are accounted for exactly. With EGL a GL context belongs
to the thread that made it, so a `SceneRenderer` must be used (and closed) on the thread that
created it; it raises RuntimeError otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import threading

import numpy as np

from physical_ai.core.depth.transforms import quaternion_from_matrix
from physical_ai.core.errors import ConfigError
from physical_ai.core.sim import gl
from physical_ai.core.sim.world import World

mujoco = gl.load_mujoco()

# Depths beyond this fraction of the far plane are the skybox, not geometry: NaN in depth images.
SKY_FRACTION = 0.5


@dataclass(frozen=True)
class Truth:
    """One visible object: box (x1, y1, x2, y2) in pixels, visible pixels, centre in the optical frame (m).

    `extent`: the object's size (m) along its own axes (x forward, y left, z up, REP 103);
    `orientation`: the rotation (x, y, z, w) of those axes in the optical frame.
    """

    name: str
    class_name: str
    box: tuple[float, float, float, float]
    pixels: int
    position: tuple[float, float, float]
    extent: tuple[float, float, float] = (0.0, 0.0, 0.0)
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)

    @property
    def centre(self) -> tuple[float, float]:
        """Return the box centre (u, v)."""
        return (self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0

    @property
    def size(self) -> tuple[float, float]:
        """Return the box width and height."""
        return self.box[2] - self.box[0], self.box[3] - self.box[1]


def metric_depth(raw: np.ndarray, near: float, far: float, max_depth: float | None = None) -> np.ndarray:
    """Return metric z-depth (m, float32) of a reversed-Z depth buffer (1 = near, 0 = far).

    Undoes OpenGL's perspective projection as mujoco.Renderer does, with the same float32
    coefficients (what glFrustum computes): z = d / (buffer + c), c = (far + near) / (2 (far - near))
    - 1/2, d = far near / (far - near). The sum and the quotient are float32 too: the buffer holds
    about near / z, so its float32 sum with c is exact to 1e-7 relative, well below a millimetre
    (mujoco.Renderer's float64 pass costs about twice as much). A cleared pixel (0: nothing drawn)
    and depths at or beyond `max_depth` (the skybox) give NaN.
    """
    zfar, znear = np.float32(far), np.float32(near)
    c_coef = np.float32(-0.5) * (-(zfar + znear) / (zfar - znear)) - np.float32(0.5)
    d_coef = np.float32(-0.5) * (-(np.float32(2) * zfar * znear) / (zfar - znear))
    depth = raw.astype(np.float32, copy=True)  # contiguous, even from a flipped view
    depth += c_coef
    np.divide(d_coef, depth, out=depth)
    invalid = raw <= 0.0
    if max_depth is not None:
        invalid |= depth >= max_depth
    depth[invalid] = np.nan
    return depth


def object_extent(class_name: str, size: tuple[float, ...]) -> tuple[float, float, float]:
    """Return an object's size (m) along its own x, y, z axes, as the world builds it (world.py)."""
    if class_name == 'ball':
        return (size[0], size[0], size[0])
    if class_name == 'box':
        return (size[0], size[1], size[2])
    if class_name == 'cylinder':
        return (size[0], size[0], size[1])
    s = size[0] / 1.75  # the person: torso depth, shoulder-to-shoulder width with the arms, height
    return (0.28 * s, 0.48 * s, size[0])


@dataclass(frozen=True)
class Rendered:
    """One render: RGB (h, w, 3 uint8), the visible objects' truths, depth (h, w float32 m) if asked."""

    rgb: np.ndarray
    truths: tuple[Truth, ...] = ()
    depth: np.ndarray | None = None


def boxes_from_labels(labels: np.ndarray, count: int,
                      min_pixels: int = 1) -> dict[int, tuple[int, int, int, int, int]]:
    """Return {object index: (x1, y1, x2, y2, pixels)} from a label image (-1 = no object).

    Boxes use the project's pixel convention: x2, y2 are one past the last pixel, so an object
    filling the image has the box (0, 0, width, height). Objects with fewer than `min_pixels`
    visible pixels are left out.
    """
    pixels = np.bincount((labels.ravel() + 1), minlength=count + 1)[1:count + 1]
    boxes = {}
    for index in np.flatnonzero(pixels >= max(1, min_pixels)):
        mask = labels == index
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        boxes[int(index)] = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1,
                             int(pixels[index]))
    return boxes


def labels_from_id_colours(colours: np.ndarray, segments: Iterable[tuple[int, int]]) -> np.ndarray:
    """Return the object index of each pixel of an id-colour image (h, w, 3 uint8; -1: no object).

    A segmentation pass (MuJoCo's IDCOLOR) draws each geom in the colour red + 256 green + 65536
    blue = its segid + 1, and 0 where nothing is drawn; `segments` maps those colour values to
    object indices. While every value is below 256 only the red byte is read: one table lookup per
    pixel.
    """
    segments = list(segments)
    top = max((value for value, _ in segments), default=0)
    if top < 256:
        table = np.full(256, -1, dtype=np.int32)
        ids = colours[..., 0]
    else:
        table = np.full(top + 1, -1, dtype=np.int32)
        ids = colours.astype(np.int32) @ np.array([1, 1 << 8, 1 << 16], dtype=np.int32)
        ids[ids > top] = 0  # a colour no geom has (none should be drawn): no object
    for value, index in segments:
        table[value] = index
    return table[ids]


class SceneRenderer:
    """Renders a world's camera image and ground truth; use it on the thread that created it."""

    def __init__(self, world: World, min_pixels: int = 4) -> None:
        self.world = world
        self.min_pixels = min_pixels
        self._owner = threading.get_ident()
        camera = world.spec.camera
        self._renderer = None
        self._seg_rgb = np.empty((camera.height, camera.width, 3), dtype=np.uint8)
        try:
            self._renderer = mujoco.Renderer(world.model, camera.height, camera.width)
        except ValueError as err:  # image larger than the model's offscreen buffer
            raise ConfigError(f'camera size {camera.width}x{camera.height}: {err}') from err
        except Exception as err:  # PyOpenGL and the drivers raise all kinds of errors here
            raise ConfigError(
                f'MuJoCo cannot create an OpenGL context with backend {gl.backend()} ({type(err).__name__}: '
                f'{err}); install the headless GL libraries: `{gl.install_hint(("egl",))}` or '
                f'`{gl.install_hint(("osmesa",))}` with MUJOCO_GL=osmesa') from err

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError('SceneRenderer used from another thread than the one that created it; '
                               'an EGL context is current on one thread only')

    def render(self, ground_truth: bool = True) -> tuple[np.ndarray, tuple[Truth, ...]]:
        """Return the RGB image (h, w, 3 uint8) and, if asked, the visible objects' truths."""
        rendered = self.render_all(ground_truth)
        return rendered.rgb, rendered.truths

    def render_all(self, ground_truth: bool = True, depth: bool = False) -> Rendered:
        """Return the RGB image and, if asked, the truths and the depth image read from the same pass."""
        self._check_thread()
        world, renderer = self.world, self._renderer
        renderer.update_scene(world.data, camera=world.camera_id)
        rgb = renderer.render()
        depth_image = self._read_depth() if depth else None
        if not ground_truth:
            return Rendered(rgb, (), depth_image)
        return Rendered(rgb, self.truths_of_labels(self._render_labels()), depth_image)

    def _render_labels(self) -> np.ndarray:
        """Render the segmentation pass; return each pixel's object index (-1: no object), top row first.

        The same pass as mujoco.Renderer's segmentation mode, decoded straight to object indices
        (`labels_from_id_colours`) instead of mujoco's (object id, object type) pairs that were
        then mapped to objects: at 640x480 that decoding took 15 ms a frame, as long as the pass.
        """
        renderer = self._renderer
        scene, rect, context = renderer.scene, renderer._rect, renderer._mjr_context
        flags = scene.flags.copy()
        try:
            scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = True
            scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = True
            mujoco.mjr_render(rect, scene, context)
            mujoco.mjr_readPixels(self._seg_rgb, None, rect, context)
        finally:
            np.copyto(scene.flags, flags)
        geom_type, geom_object = int(mujoco.mjtObj.mjOBJ_GEOM), self.world.geom_object
        shown = [(g.segid + 1, int(geom_object[g.objid]) if g.objtype == geom_type else -1)
                 for g in scene.geoms[:scene.ngeom] if g.segid != -1]
        return labels_from_id_colours(self._seg_rgb[::-1], shown)  # GL rows run bottom-up

    def _read_depth(self) -> np.ndarray:
        """Return the metric depth of the pass just rendered (its depth buffer, still in the context)."""
        renderer, model = self._renderer, self.world.model
        # mujoco.Renderer reads depth only in a pass of its own; the buffer of the RGB pass is the
        # same one, so it is read back here with the renderer's own viewport and context.
        raw = np.empty((renderer.height, renderer.width), dtype=np.float32)
        mujoco.mjr_readPixels(None, raw, renderer._rect, renderer._mjr_context)
        near, far = model.vis.map.znear * model.stat.extent, model.vis.map.zfar * model.stat.extent
        # The skybox is drawn as a cube about 0.7 far away (measured: 83-97 m with far at 120 m);
        # every geometry of a world lies well within half of it (the floor ends 40 m out).
        return metric_depth(raw[::-1], near, far, SKY_FRACTION * far)  # GL rows run bottom-up

    def truths_of_labels(self, labels: np.ndarray) -> tuple[Truth, ...]:
        """Return the truths of a label image (h, w: object index, -1 where no object is seen)."""
        world = self.world
        boxes = boxes_from_labels(labels, len(world.names), self.min_pixels)
        if not boxes:
            return ()
        indices = sorted(boxes)
        centres = world.to_optical(np.array([world.object_centre(i) for i in indices]))
        _, camera_rotation = world.camera_pose()
        optical = camera_rotation * np.array([1.0, -1.0, -1.0])  # columns: optical axes in the world
        truths = []
        for i, centre in zip(indices, centres, strict=True):
            obj = world.spec.objects[i]
            rotation = optical.T @ world.object_rotation(i)
            truths.append(Truth(world.names[i], world.classes[i], tuple(float(v) for v in boxes[i][:4]),
                                boxes[i][4], tuple(round(float(c), 6) for c in centre),
                                object_extent(obj.class_name, obj.size), quaternion_from_matrix(rotation)))
        return tuple(truths)

    def close(self) -> None:
        """Free the GL context (on the owner thread)."""
        if self._renderer is not None:
            self._check_thread()
            self._renderer.close()
            self._renderer = None
