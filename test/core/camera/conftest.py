"""Real inputs for the camera core: video files, image folders and a local MJPEG-over-HTTP stream."""

from __future__ import annotations

from collections.abc import Iterator
import http.server
from pathlib import Path
import threading
import time

import cv2
import numpy as np
import pytest


def write_video(path: Path, frames: int = 10, size: tuple[int, int] = (64, 48), fps: float = 20.0,
                fourcc: str = 'MJPG') -> Path:
    """Write a video whose frame i is uniformly gray with value 20 * i (mod 256)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f'OpenCV cannot write {path}'
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (20 * i) % 256, np.uint8))
    writer.release()
    return path


def write_images(folder: Path, colors: list[tuple[int, int, int]], size: tuple[int, int] = (32, 24),
                 names: list[str] | None = None) -> list[Path]:
    """Write one PNG per BGR colour (lossless, so pixels compare exactly)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, color in enumerate(colors):
        path = folder / (names[i] if names else f'frame_{i}.png')
        cv2.imwrite(str(path), np.full((size[1], size[0], 3), color, np.uint8))
        paths.append(path)
    return paths


class MjpegServer:
    """An MJPEG-over-HTTP stream on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, size: tuple[int, int] = (64, 48), rate: float = 30.0) -> None:
        self.size = size
        self.period = 1.0 / rate
        self.port = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        """Return the stream URL."""
        return f'http://127.0.0.1:{self.port}/stream.mjpg'

    def start(self) -> None:
        """Serve (again) on the same port."""
        server_self = self
        self._stop.clear()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header('Content-Type', 'multipart/x-mixed-replace; boundary=frame')
                self.end_headers()
                w, h = server_self.size
                i = 0
                try:
                    while not server_self._stop.is_set():
                        _, jpg = cv2.imencode('.jpg', np.full((h, w, 3), (10 * i) % 256, np.uint8))
                        data = jpg.tobytes()
                        self.wfile.write(b'--frame\r\nContent-Type: image/jpeg\r\n'
                                         b'Content-Length: %d\r\n\r\n' % len(data) + data + b'\r\n')
                        i += 1
                        time.sleep(server_self.period)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving and cut the open connections."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    """Yield a running local MJPEG stream; stopped after the test."""
    server = MjpegServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_video():
    """Return write_video (a fixture, since test modules cannot import conftest by name)."""
    return write_video


@pytest.fixture
def make_images():
    """Return write_images."""
    return write_images
