"""Make the Python prefix this package is installed in a valid ament prefix for `ros2 launch`.

`ros2 launch` and launch_ros look for the package marker, share/physical_ai/{package.xml, launch,
config, models} and executables in lib/physical_ai. colcon installs all of these; a plain
`pip install .` installs the data files but puts executables in bin/, and `pip install -e .`
installs no data files at all. This fills the gaps: data files are linked to the source tree when
it is there (so edits show at once) and lib/physical_ai/<exe> wrappers exec the console scripts.

Folders are real folders and only files are links, as `colcon build --symlink-install` makes
them: `ros2 launch PKG FILE` finds FILE with os.walk, which does not follow links to folders.
"""

from __future__ import annotations

import argparse
from importlib.metadata import distribution
import os
from pathlib import Path
import shutil
import sys

PACKAGE = 'physical_ai'
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options."""
    parser.add_argument('--prefix', type=Path, default=Path(sys.prefix),
                        help='prefix to complete (default: this interpreter\'s, %(default)s)')


def run(args: argparse.Namespace) -> int:
    """Create the marker, share/ entries and lib/ wrappers under the prefix."""
    created = install(args.prefix)
    print(f'ament prefix {args.prefix}: {len(created)} entr{"y" if len(created) == 1 else "ies"} '
          'created or refreshed')
    return 0


def console_scripts() -> dict[str, str]:
    """Return this distribution's console scripts (name -> 'module:function')."""
    eps = distribution(PACKAGE).entry_points
    return {ep.name: ep.value for ep in eps if ep.group == 'console_scripts'}


def install(prefix: Path) -> list[Path]:
    """Complete `prefix`; return the paths created or refreshed."""
    created: list[Path] = []
    marker = prefix / 'share/ament_index/resource_index/packages' / PACKAGE
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        created.append(marker)
    share = prefix / 'share' / PACKAGE
    share.mkdir(parents=True, exist_ok=True)
    if (SOURCE_ROOT / 'package.xml').is_file():
        # Running from a source tree (editable install): link so edits show without reinstalling.
        for name in ('package.xml', 'launch', 'config', 'models'):
            created += _link(SOURCE_ROOT / name, share / name)
    lib = prefix / 'lib' / PACKAGE
    lib.mkdir(parents=True, exist_ok=True)
    for name in console_scripts():
        script = prefix / 'bin' / name
        if not script.exists():
            continue
        wrapper = lib / name
        text = f'#!/bin/sh\nexec "{script}" "$@"\n'
        if not wrapper.exists() or wrapper.read_text() != text:
            wrapper.unlink(missing_ok=True)
            wrapper.write_text(text)
            wrapper.chmod(0o755)
            created.append(wrapper)
    return created


def _link(src: Path, dst: Path) -> list[Path]:
    """Mirror `src` at `dst`: a file becomes a link to it, a folder a real folder of such links.

    Entries under `dst` that `src` no longer has are removed, so a deleted source file does not
    linger as a dangling link.
    """
    if src.is_dir():
        if dst.is_symlink() or dst.is_file():
            dst.unlink()  # a folder link made by an older version of this module
        dst.mkdir(parents=True, exist_ok=True)
        created: list[Path] = []
        wanted = {child.name for child in src.iterdir() if not _ignored(child)}
        for entry in dst.iterdir():
            if entry.name not in wanted:
                _remove(entry)
        for name in sorted(wanted):
            created += _link(src / name, dst / name)
        return created
    if dst.is_symlink() and os.readlink(dst) == str(src):
        return []
    _remove(dst)
    os.symlink(src, dst)
    return [dst]


def _ignored(path: Path) -> bool:
    return path.name == '__pycache__' or path.suffix == '.pyc'


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


if __name__ == '__main__':
    _parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
