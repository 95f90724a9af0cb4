"""Offscreen rendering of the robot's camera: RGB, and exact 2D boxes from a segmentation pass.

Both passes share one scene update. The segmentation pass draws every geom in a colour that
encodes its id (no lighting, no antialiasing), so each object's box is the extent of its visible
pixels: occlusion and the image border are accounted for exactly. With EGL a GL context belongs
to the thread that made it, so a `SceneRenderer` must be used (and closed) on the thread that
created it; it raises RuntimeError otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
import threading

import numpy as np

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim import gl
from physical_ai.core.sim.world import World

mujoco = gl.load_mujoco()


@dataclass(frozen=True)
class Truth:
    """One visible object: box (x1, y1, x2, y2) in pixels, visible pixels, centre in the optical frame (m)."""

    name: str
    class_name: str
    box: tuple[float, float, float, float]
    pixels: int
    position: tuple[float, float, float]

    @property
    def centre(self) -> tuple[float, float]:
        """Return the box centre (u, v)."""
        return (self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0

    @property
    def size(self) -> tuple[float, float]:
        """Return the box width and height."""
        return self.box[2] - self.box[0], self.box[3] - self.box[1]


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


class SceneRenderer:
    """Renders a world's camera image and ground truth; use it on the thread that created it."""

    def __init__(self, world: World, min_pixels: int = 4) -> None:
        self.world = world
        self.min_pixels = min_pixels
        self._owner = threading.get_ident()
        camera = world.spec.camera
        self._renderer = None
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
        self._check_thread()
        world, renderer = self.world, self._renderer
        renderer.update_scene(world.data, camera=world.camera_id)
        rgb = renderer.render()
        if not ground_truth:
            return rgb, ()
        renderer.enable_segmentation_rendering()
        try:
            segmentation = renderer.render()
        finally:
            renderer.disable_segmentation_rendering()
        return rgb, self.truths(segmentation)

    def truths(self, segmentation: np.ndarray) -> tuple[Truth, ...]:
        """Return the truths of a segmentation image (h, w, 2: object id, object type)."""
        world = self.world
        ids = segmentation[..., 0]
        # Geom ids map to objects; -1 (background) picks the table's extra last entry.
        is_geom = segmentation[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
        labels = np.where(is_geom, world.geom_object[ids], -1)
        boxes = boxes_from_labels(labels, len(world.names), self.min_pixels)
        if not boxes:
            return ()
        indices = sorted(boxes)
        centres = world.to_optical(np.array([world.object_centre(i) for i in indices]))
        return tuple(
            Truth(world.names[i], world.classes[i], tuple(float(v) for v in boxes[i][:4]), boxes[i][4],
                  tuple(round(float(c), 6) for c in centre))
            for i, centre in zip(indices, centres, strict=True))

    def close(self) -> None:
        """Free the GL context (on the owner thread)."""
        if self._renderer is not None:
            self._check_thread()
            self._renderer.close()
            self._renderer = None
