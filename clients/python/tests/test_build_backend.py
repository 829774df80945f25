"""Unit tests of build_backend.py, the standard-library build backend that
makes ``pip install ./clients/python`` work offline: the metadata it reads
agrees with pyproject.toml and the package, and its wheel and sdist hold
what they should."""

import base64
import hashlib
import os
import sys
import tarfile
import unittest
import zipfile

import support
from agora_cloud import __version__

sys.path.insert(0, os.path.dirname(support.HERE))
import build_backend  # noqa: E402


class BuildBackendTest(unittest.TestCase):
    def test_the_metadata_read_is_pyproject_tomls_and_the_packages_version(self):
        meta = build_backend.project()
        self.assertEqual((meta["name"], meta["version"]), ("agora-cloud", __version__))
        self.assertEqual(meta["requires-python"], ">=3.9")
        try:
            import tomllib
        except ImportError:
            self.skipTest("tomllib arrived in Python 3.11")
        with open(os.path.join(build_backend.ROOT, "pyproject.toml"), "rb") as f:
            self.assertEqual(tomllib.load(f)["project"], meta)

    def test_the_wheel_holds_the_package_and_a_record_of_every_file(self):
        out = support.tempdir(self)
        name = build_backend.build_wheel(out)
        self.assertEqual(name, f"agora_cloud-{__version__}-py3-none-any.whl")
        with zipfile.ZipFile(os.path.join(out, name)) as zf:
            names = zf.namelist()
            self.assertIn("agora_cloud/__init__.py", names)
            self.assertIn("agora_cloud/logger.py", names)
            self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc")])
            info = f"agora_cloud-{__version__}.dist-info"
            self.assertIn(f"Version: {__version__}", zf.read(f"{info}/METADATA").decode())
            for line in zf.read(f"{info}/RECORD").decode().splitlines():
                path, digest, size = line.split(",")
                if path.endswith("RECORD"):
                    continue
                data = zf.read(path)
                want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                self.assertEqual((digest, int(size)), (f"sha256={want}", len(data)), path)

    def test_the_editable_wheel_points_at_the_source_tree(self):
        out = support.tempdir(self)
        with zipfile.ZipFile(os.path.join(out, build_backend.build_editable(out))) as zf:
            self.assertEqual(zf.read("agora_cloud.pth").decode().strip(), build_backend.SRC)

    def test_the_sdist_holds_what_rebuilds_the_package(self):
        out = support.tempdir(self)
        name = build_backend.build_sdist(out)
        with tarfile.open(os.path.join(out, name)) as tf:
            names = tf.getnames()
        top = f"agora_cloud-{__version__}"
        for member in ("PKG-INFO", "pyproject.toml", "build_backend.py", "src/agora_cloud/logger.py",
                       "tests/test_logger.py"):
            self.assertIn(f"{top}/{member}", names)

    def test_nothing_is_needed_to_build(self):
        self.assertEqual(build_backend.get_requires_for_build_wheel(), [])
        self.assertEqual(build_backend.get_requires_for_build_sdist(), [])
        self.assertEqual(build_backend.get_requires_for_build_editable(), [])


if __name__ == "__main__":
    unittest.main()
