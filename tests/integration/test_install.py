"""make install honours prefix and DESTDIR: a tree configured with
--prefix=/opt/agora and installed with DESTDIR puts everything under the
staging directory at the prefix's paths, and nothing anywhere else."""
import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])


def test_configure_prefix_and_make_install_destdir(tmp_path):
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), src / rel)
    run(["autoreconf", "-fi"], src)
    run(["./configure", "--prefix=/opt/agora", "--disable-tests"], src)
    run(["make", "-j2"], src)
    dest = tmp_path / "stage"
    run(["make", "install", f"DESTDIR={dest}"], src)

    base = dest / "opt" / "agora"
    for rel in ("bin/agora-worker", "bin/agora-admin", "share/agora-cloud/fcgi/agora-workers"):
        path = base / rel
        assert path.is_file() and os.access(path, os.X_OK), rel
    sql = sorted(p.name for p in (base / "share/agora-cloud/sql").iterdir())
    assert sql == sorted(n for n in os.listdir(os.path.join(ROOT, "sql")) if n.endswith(".sql"))
    for rel in ("share/agora-cloud/nginx/agora.conf.in", "share/agora-cloud/nginx/www/index.html",
                "share/agora-cloud/nginx/errors/unavailable.json", "share/agora-cloud/nginx/www/openapi.yaml",
                "share/agora-cloud/nginx/www/docs/index.html", "share/agora-cloud/nginx/www/docs/init.js"):
        assert (base / rel).is_file(), rel
    assert sorted(os.listdir(dest)) == ["opt"]
    # The installed admin looks for its migrations under the prefix.
    assert b"/opt/agora/share/agora-cloud/sql" in (base / "bin/agora-admin").read_bytes()
