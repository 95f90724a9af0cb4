"""Image to input tensor: letterbox (or stretch), channel order, normalisation; and the way back for boxes.

All pixel work is done by OpenCV (resize, blobFromImage) or torch, never per pixel in Python. The
geometry of each placement is kept so that boxes found in the input tensor map back exactly to the
pixels of the original image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import threading

import cv2
import numpy as np
import torch

from physical_ai.core.errors import ImageError

# encoding -> (cv2 conversion to 3 channels or None, channel order of the result)
_COLOR = {
    'bgr8': (None, 'bgr'),
    '8UC3': (None, 'bgr'),
    'rgb8': (None, 'rgb'),
    'mono8': (cv2.COLOR_GRAY2BGR, 'bgr'),
    '8UC1': (cv2.COLOR_GRAY2BGR, 'bgr'),
    'bgra8': (cv2.COLOR_BGRA2BGR, 'bgr'),
    '8UC4': (cv2.COLOR_BGRA2BGR, 'bgr'),
    'rgba8': (cv2.COLOR_RGBA2RGB, 'rgb'),
}
COLOR_ENCODINGS = tuple(_COLOR)


def as_color(image: np.ndarray, encoding: str) -> tuple[np.ndarray, str]:
    """Return (an H x W x 3 uint8 image, its channel order 'bgr' or 'rgb') for a decoded image."""
    try:
        conversion, order = _COLOR[encoding]
    except KeyError:
        raise ImageError(f'image encoding {encoding!r} cannot feed a detector; accepted: '
                         f'{", ".join(COLOR_ENCODINGS)}') from None
    if image.dtype != np.uint8:
        raise ImageError(f'{encoding} image has dtype {image.dtype}; expected uint8')
    if conversion is not None:
        image = cv2.cvtColor(image, conversion)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f'{encoding} image has shape {image.shape}; expected H x W x 3')
    return image, order


@dataclass(frozen=True)
class Placement:
    """Where an image of src size was put inside the input tensor: scale per axis and padding."""

    src_height: int
    src_width: int
    dst_height: int
    dst_width: int
    new_height: int
    new_width: int
    pad_y: int
    pad_x: int

    @property
    def scale_x(self) -> float:
        """Input-tensor pixels per image pixel, horizontally."""
        return self.new_width / self.src_width

    @property
    def scale_y(self) -> float:
        """Input-tensor pixels per image pixel, vertically."""
        return self.new_height / self.src_height

    def to_image(self, boxes: torch.Tensor) -> torch.Tensor:
        """Map [K, 4] xyxy boxes from input-tensor pixels to image pixels, clipped to the image."""
        offset = boxes.new_tensor([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        scale = boxes.new_tensor([self.scale_x, self.scale_y, self.scale_x, self.scale_y])
        out = (boxes - offset) / scale
        out[:, 0::2] = out[:, 0::2].clamp(0, self.src_width)
        out[:, 1::2] = out[:, 1::2].clamp(0, self.src_height)
        return out

    def to_input(self, boxes: torch.Tensor) -> torch.Tensor:
        """Map [K, 4] xyxy boxes from image pixels to input-tensor pixels (the forward mapping)."""
        offset = boxes.new_tensor([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        scale = boxes.new_tensor([self.scale_x, self.scale_y, self.scale_x, self.scale_y])
        return boxes * scale + offset


def placement(src_height: int, src_width: int, dst_height: int, dst_width: int,
              keep_aspect: bool = True) -> Placement:
    """Return the placement of a src image in a dst tensor: centred letterbox, or a stretch."""
    if keep_aspect:
        ratio = min(dst_height / src_height, dst_width / src_width)
        new_height = min(dst_height, max(1, round(src_height * ratio)))
        new_width = min(dst_width, max(1, round(src_width * ratio)))
    else:
        new_height, new_width = dst_height, dst_width
    return Placement(src_height, src_width, dst_height, dst_width, new_height, new_width,
                     (dst_height - new_height) // 2, (dst_width - new_width) // 2)


class Preprocessor:
    """Makes the model's input tensor from an H x W x 3 uint8 image, reusing its buffers.

    Safe to call from several threads at once (a node running frames on several model streams):
    each thread letterboxes into a canvas of its own.

    `input_size` (h, w) or None (feed the image at its own size); `channels` the order the model
    takes; normalisation is (pixel * scale - mean) / std per channel, in the model's channel order.
    """

    def __init__(self, input_size: tuple[int, int] | None, keep_aspect: bool = True, channels: str = 'rgb',
                 scale: float = 1.0 / 255.0, mean: Sequence[float] = (0.0, 0.0, 0.0),
                 std: Sequence[float] = (1.0, 1.0, 1.0), pad_value: int = 114,
                 device: torch.device | str = 'cpu', half: bool = False) -> None:
        self.input_size = tuple(input_size) if input_size else None
        self.keep_aspect = keep_aspect
        self.channels = channels
        self.pad_value = int(pad_value)
        self.device = torch.device(device)
        self.half = half
        mean = [float(m) for m in mean]
        std = [float(s) for s in std]
        # (x * scale - mean) / std == (x - mean / scale) * (scale / std): one blobFromImage when std is
        # the same for every channel, plus one multiply per channel otherwise.
        self._mean_px = tuple(m / scale for m in mean)
        if len(set(std)) == 1:
            self._factor = scale / std[0]
            self._per_channel = None
        else:
            self._factor = scale
            self._per_channel = torch.tensor([1.0 / s for s in std]).view(1, 3, 1, 1)
        self._scale, self._mean, self._std = scale, mean, std
        self._placement: Placement | None = None
        self._local = threading.local()  # .canvas: this thread's padded image, for .placement

    def placement_for(self, height: int, width: int) -> Placement:
        """Return (and cache) the placement of an image of this size."""
        cached = self._placement
        if cached is not None and cached.src_height == height and cached.src_width == width:
            return cached
        dst_height, dst_width = self.input_size or (height, width)
        self._placement = placement(height, width, dst_height, dst_width, self.keep_aspect)
        return self._placement

    def place(self, image: np.ndarray) -> tuple[np.ndarray, Placement]:
        """Return the uint8 image resized and padded to the input size (channel order unchanged)."""
        height, width = image.shape[:2]
        if height == 0 or width == 0:
            raise ImageError(f'image has zero size ({width}x{height})')
        where = self.placement_for(height, width)
        if (where.new_height, where.new_width) != (height, width):
            image = cv2.resize(image, (where.new_width, where.new_height), interpolation=cv2.INTER_LINEAR)
        if (where.new_height, where.new_width) == (where.dst_height, where.dst_width):
            return image, where
        local = self._local
        if getattr(local, 'placement', None) is not where:
            local.canvas = np.full((where.dst_height, where.dst_width, 3), self.pad_value, np.uint8)
            local.placement = where
        # Only the inside is rewritten: the border keeps the pad value from the first frame.
        local.canvas[where.pad_y:where.pad_y + where.new_height,
                     where.pad_x:where.pad_x + where.new_width] = image
        return local.canvas, where

    def __call__(self, image: np.ndarray, order: str = 'bgr') -> tuple[torch.Tensor, Placement]:
        """Return the input tensor [1, 3, h, w] on the model's device, and where the image went."""
        placed, where = self.place(image)
        swap = order != self.channels
        if self.device.type == 'cpu':
            blob = cv2.dnn.blobFromImage(placed, scalefactor=self._factor, mean=self._mean_px, swapRB=swap)
            tensor = torch.from_numpy(blob)
            if self._per_channel is not None:
                tensor.mul_(self._per_channel)
        else:
            tensor = self._on_device(placed, swap)
        return (tensor.half() if self.half else tensor), where

    def _on_device(self, placed: np.ndarray, swap: bool) -> torch.Tensor:
        """Upload uint8 pixels (a quarter of the float bytes) and normalise on the device."""
        pixels = torch.from_numpy(np.ascontiguousarray(placed)).to(self.device, non_blocking=True)
        tensor = pixels.permute(2, 0, 1).unsqueeze(0)
        if swap:
            tensor = tensor.flip(1)
        tensor = tensor.float()
        mean = torch.tensor(self._mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self._std, device=self.device).view(1, 3, 1, 1)
        return ((tensor * self._scale - mean) / std).contiguous()
