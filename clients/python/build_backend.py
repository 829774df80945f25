"""The PEP 517 build backend of agora_cloud (named in pyproject.toml), using
nothing but the standard library.

pip builds a package with a pyproject.toml in an isolated environment and
installs the backend's requirements there first; setuptools would have to
come from PyPI. This backend has no requirements, so
``pip install ./clients/python`` works offline, with Debian's pip as with
any other (PEP 517, PEP 660 for ``pip install -e``).

It reads the name, version, description and requires-python from
pyproject.toml's [project] table (``key = "text"`` lines only, which is all
that table holds), packs ``src/agora_cloud`` into a pure-Python wheel, and
packs the sources into an sdist.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(ROOT, "src")
PACKAGE = "agora_cloud"
# Files in zip and tar archives get this time, so a build is reproducible.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SDIST_FILES = ("pyproject.toml", "build_backend.py", "bench_overhead.py")
_SDIST_DIRS = ("src", "tests")


def project():
    """The [project] table's text values, as a dict."""
    meta = {}
    section = None
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
                continue
            m = re.match(r'^([A-Za-z][\w-]*)\s*=\s*"([^"\\]*)"\s*(#.*)?$', line)
            if section == "[project]" and m:
                meta[m.group(1)] = m.group(2)
    return meta


def _dist(meta):
    """The file-name form of the distribution: agora_cloud-0.1.0."""
    return re.sub(r"[-_.]+", "_", meta["name"]).lower() + "-" + meta["version"]


def _metadata(meta):
    return (f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
            f"Summary: {meta.get('description', '')}\nRequires-Python: {meta.get('requires-python', '>=3')}\n")


def _tree(top, base):
    """(archive name, path) of the files under top (no caches), sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(dirpath, name)
                out.append((os.path.relpath(path, base).replace(os.sep, "/"), path))
    return out


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _wheel(wheel_directory, files):
    """Writes a py3-none-any wheel of files [(archive name, bytes)] plus its
    dist-info; returns the wheel's file name."""
    meta = project()
    dist = _dist(meta)
    info = f"{dist}.dist-info"
    files = list(files) + [
        (f"{info}/METADATA", _metadata(meta).encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: agora_cloud build_backend\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = []
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    filename = f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zi = zipfile.ZipInfo(name, _EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = [(name, _read(path)) for name, path in _tree(os.path.join(SRC, PACKAGE), SRC)]
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel whose only file is a .pth naming src/, so the installed
    package is this tree's."""
    return _wheel(wheel_directory, [(f"{PACKAGE}.pth", (SRC + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    meta = project()
    dist = _dist(meta)
    members = [(f"{dist}/PKG-INFO", _metadata(meta).encode())]
    for name in _SDIST_FILES:
        members.append((f"{dist}/{name}", _read(os.path.join(ROOT, name))))
    for top in _SDIST_DIRS:
        members += [(f"{dist}/{name}", _read(path)) for name, path in _tree(os.path.join(ROOT, top), ROOT)]
    filename = f"{dist}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []
