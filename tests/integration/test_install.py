"""make install: a copy of the tree, configured with a prefix of its own, is
built once and installed twice: with DESTDIR into a staging directory (the
packager's way) and for real into the prefix (the operator's way). Every
file lands where README's "Deploying" says, nothing lands anywhere else, the
units and the nginx example name the installed paths, `systemd-analyze
verify` accepts the installed units (their programs exist at those paths),
and systemd-sysusers creates the user they run as."""
import os
import re
import shutil
import stat
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = ("agora-worker.service", "agora-worker@.service", "agora-migrate.service", "agora-live.service",
         "agora-alerts.service", "agora-retention.service")


def run(cmd, cwd, **kw):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
    return r


def files_under(top):
    """Every file below top, as paths relative to it."""
    out = set()
    for d, _, names in os.walk(top):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), top))
    return out


class Install:
    def __init__(self, prefix, stage):
        self.prefix = prefix                              # the real install
        self.stage = stage                                # the DESTDIR install
        self.staged = os.path.join(stage, prefix.lstrip("/"))  # prefix inside it

    def path(self, rel):
        return os.path.join(self.prefix, rel)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    top = tmp_path_factory.mktemp("install")
    src = top / "src"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), src / rel)
    prefix = str(top / "prefix")
    run(["autoreconf", "-fi"], src)
    run(["./configure", f"--prefix={prefix}", "--disable-tests"], src)
    run(["make", "-j2"], src)
    stage = str(top / "stage")
    run(["make", "install", f"DESTDIR={stage}"], src)
    run(["make", "install"], src)
    return Install(prefix, stage)


def test_make_install_puts_every_file_under_the_prefix(installed):
    base = installed.staged
    for rel in ("bin/agora-worker", "bin/agora-admin", "bin/agora-supervise", "bin/agora-live",
                "bin/agora-alerts", "bin/agora-retention", "share/agora-cloud/fcgi/agora-workers"):
        path = os.path.join(base, rel)
        assert os.path.isfile(path) and os.access(path, os.X_OK), rel
    # The migrations, and the twins migrate runs in their place as a role
    # that is not a superuser (README "Managed PostgreSQL").
    for sub in ("sql", "sql/managed"):
        installed_sql = sorted(n for n in os.listdir(os.path.join(base, "share/agora-cloud", sub))
                               if n != "managed")
        assert installed_sql == sorted(n for n in os.listdir(os.path.join(ROOT, sub)) if n.endswith(".sql")), sub
    for rel in ("share/agora-cloud/nginx/agora.conf.in", "share/agora-cloud/nginx/www/index.html",
                "share/agora-cloud/nginx/errors/unavailable.json", "share/agora-cloud/nginx/www/openapi.yaml",
                "share/agora-cloud/nginx/www/docs/index.html", "share/agora-cloud/nginx/www/docs/init.js",
                "share/agora-cloud/nginx/fastcgi_params", "share/agora-cloud/nginx/security_headers.conf",
                "share/agora-cloud/nginx/agora-upstream.conf.example",
                "share/agora-cloud/systemd/agora.env.example",
                "lib/sysusers.d/agora-cloud.conf", "lib/tmpfiles.d/agora-cloud.conf",
                "share/agora-cloud/nginx/live_locations.conf", "share/agora-cloud/nginx/errors/bad_message_id.json",
                "share/doc/agora-cloud/README.md", "share/doc/agora-cloud/BENCHMARKS.md",
                "share/doc/agora-cloud/RELIABILITY.md", "share/doc/agora-cloud/DESIGN.md",
                "lib/systemd/system/agora-retention.timer", *(f"lib/systemd/system/{u}" for u in UNITS)):
        assert os.path.isfile(os.path.join(base, rel)), rel
    # DESTDIR holds the prefix and nothing beside it.
    first = installed.prefix.lstrip("/").split("/")[0]
    assert sorted(os.listdir(installed.stage)) == [first]
    assert files_under(installed.stage) == {os.path.join(installed.prefix.lstrip("/"), f)
                                            for f in files_under(installed.staged)}
    # The real install is the same set of files.
    assert files_under(installed.prefix) == files_under(installed.staged)
    # The installed admin looks for its migrations under the prefix.
    sqldir = os.path.join(installed.prefix, "share/agora-cloud/sql").encode()
    with open(os.path.join(base, "bin/agora-admin"), "rb") as f:
        assert sqldir in f.read()


def test_units_and_nginx_example_name_the_installed_paths(installed):
    for unit in UNITS:
        with open(installed.path(f"lib/systemd/system/{unit}")) as f:
            text = f.read()
        assert not re.search(r"@[a-z_]+@", text), f"{unit}: a template token was left: {text}"
        execs = re.findall(r"^ExecStart=(.*)$", text, re.M)
        assert len(execs) == 1, unit
        programs = (["agora-admin"] if "migrate" in unit else ["agora-live"] if "live" in unit
                    else ["agora-alerts"] if "alerts" in unit else ["agora-retention"] if "retention" in unit
                    else ["agora-supervise", "agora-worker"])
        for program in programs:
            assert installed.path(f"bin/{program}") in execs[0].split(), (unit, execs[0])
        assert f"EnvironmentFile=-{installed.prefix}/etc/agora-cloud/agora.env" in text, unit
        for line in re.findall(r"^LoadCredential=.*$", text, re.M):
            assert line.split(":", 1)[1].startswith(f"{installed.prefix}/etc/agora-cloud/credentials/"), line
    with open(installed.path("lib/systemd/system/agora-migrate.service")) as f:
        assert f"--dir {installed.prefix}/share/agora-cloud/sql" in f.read()
    with open(installed.path("share/agora-cloud/nginx/agora-upstream.conf.example")) as f:
        text = f.read()
    assert not re.search(r"@[a-z_]+@", text)
    named = re.findall(r"(?:include|alias|root)\s+(\S+?);", text)
    ours = [p for p in named if p.startswith(installed.prefix)]
    assert len(ours) >= 4, named
    for p in ours:
        assert os.path.exists(p), f"the nginx example names {p}, which was not installed"


def test_systemd_analyze_verify_accepts_the_installed_units(installed):
    unitdir = installed.path("lib/systemd/system")
    # A template is verified through an instance, as systemd would load it.
    names = ["agora-worker.service", "agora-worker@9000.service", "agora-migrate.service",
             "agora-retention.service", "agora-retention.timer"]
    r = subprocess.run(["systemd-analyze", "verify", *names], cwd=unitdir, capture_output=True, text=True,
                       timeout=120)
    # verify exits 0 on unknown keys too, only warning: any output is a failure.
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), (r.stdout, r.stderr)


def test_systemd_analyze_verify_would_catch_a_broken_unit(installed, tmp_path):
    """The check above can fail: the same unit with its worker path or one
    directive broken is refused."""
    with open(installed.path("lib/systemd/system/agora-worker@.service")) as f:
        text = f.read()
    cases = {
        "missing program": text.replace(installed.path("bin/agora-worker"), "/nonexistent/agora-worker")
                               .replace("/usr/bin/spawn-fcgi", "/nonexistent/spawn-fcgi"),
        "bad directive": text.replace("Restart=always", "Restart=sometimes"),
    }
    for why, broken in cases.items():
        d = tmp_path / why.replace(" ", "_")
        d.mkdir()
        (d / "agora-worker@.service").write_text(broken)
        r = subprocess.run(["systemd-analyze", "verify", "agora-worker@9000.service"], cwd=d,
                           capture_output=True, text=True, timeout=120)
        assert r.stderr.strip(), f"{why}: verify said nothing"


def test_sysusers_file_creates_the_agora_user_with_nginx_in_its_group(installed, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group"):  # this system's users, www-data among them
        shutil.copy2(f"/etc/{name}", root / "etc" / name)
    run(["systemd-sysusers", f"--root={root}", installed.path("lib/sysusers.d/agora-cloud.conf")], "/")
    passwd = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}
    group = {line.split(":")[0]: line.split(":") for line in (root / "etc/group").read_text().splitlines()}
    assert "agora" in passwd and passwd["agora"][6] == "/usr/sbin/nologin"
    assert int(passwd["agora"][2]) < 1000, "a system user"
    assert "www-data" in group["agora"][3].split(","), group["agora"]


def test_tmpfiles_file_makes_the_live_publisher_directory_for_root_and_agora_only(installed, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group"):
        shutil.copy2(f"/etc/{name}", root / "etc" / name)
    run(["systemd-sysusers", f"--root={root}", installed.path("lib/sysusers.d/agora-cloud.conf")], "/")
    run(["systemd-tmpfiles", "--create", f"--root={root}", installed.path("lib/tmpfiles.d/agora-cloud.conf")], "/")
    st = os.stat(root / "run" / "agora-live")
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750
    group = {line.split(":")[0]: line.split(":") for line in (root / "etc/group").read_text().splitlines()}
    assert st.st_gid == int(group["agora"][2])
    if os.geteuid() == 0:
        assert st.st_uid == 0
    # The socket the units and the nginx example name lives there.
    with open(installed.path("lib/systemd/system/agora-live.service")) as f:
        assert "AGORA_LIVE_PUBLISH_SOCKET=/run/agora-live/live-pub.sock" in f.read()
    with open(installed.path("share/agora-cloud/nginx/agora-upstream.conf.example")) as f:
        assert "listen unix:/run/agora-live/live-pub.sock;" in f.read()
