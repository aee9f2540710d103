"""Issue 17, findings 12 and 13: the CLI says one clear line and exits 2 on a full
disk, a bad --story or a bad port, leaves nothing half-written and reads a bounded
amount; the data folder is private (0700, files 0600)."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import deepflix
from deepflix import cli, pipeline

CODE = str(Path(deepflix.__file__).parents[1])  # the tree under test, for subprocesses


def _run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["deepflix", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return int(done.value.code or 0), capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "internal error" not in lines[0] and "Traceback" not in err
    return lines[0]


# ---- 12: a full disk while the film is placed in --out

def _placer() -> Any:
    """Where the pipeline puts a stored file into --out (film/manifest.py once the film plan lands)."""
    try:
        from deepflix.film import manifest
    except ImportError:
        return pipeline._place
    return manifest._place


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The out folder is on another filesystem (no hard link) and fills up halfway through the copy."""

    def no_link(self: Path, target: Any) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link", str(self))

    def half_copy(src: Any, dst: Any, *a: Any, **kw: Any) -> Any:
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(Path, "hardlink_to", no_link)
    monkeypatch.setattr(shutil, "copyfile", half_copy)


def test_full_disk_while_placing_the_film_is_one_line_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stored = tmp_path / "store" / "movie.mp4"
    stored.parent.mkdir()
    stored.write_bytes(os.urandom(200_000))
    out = tmp_path / "out"

    def make_film(request: Any, **kw: Any) -> Any:
        # the stages are all cached; what is left is placing the files in --out (pipeline._place, for real)
        kw["out_dir"].mkdir(parents=True, exist_ok=True)
        _placer()(stored, kw["out_dir"] / "movie.mp4")
        raise AssertionError("the copy should have failed")

    monkeypatch.setattr(pipeline, "make_film", make_film)
    _full_disk(monkeypatch)
    code, err = _run_cli(monkeypatch, capsys, "make", "a lighthouse keeper", "--out", str(out))
    line = _one_line(err)
    assert code == 2, err
    assert "no space left on device" in line.lower() and "movie.mp4" in line
    assert sorted(p.name for p in out.iterdir()) == []  # no .movie.mp4.tmp, no half movie


def test_full_disk_anywhere_else_is_one_line_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def make_film(request: Any, **kw: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "film.json"))

    monkeypatch.setattr(pipeline, "make_film", make_film)
    code, err = _run_cli(monkeypatch, capsys, "make", "a lighthouse keeper", "--out", str(tmp_path / "o"))
    line = _one_line(err)
    assert code == 2 and "no space left" in line and "film.json" in line


# ---- 12: --story

def test_story_that_is_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_cli(monkeypatch, capsys, "make", "--story", str(tmp_path))
    assert code == 2 and "is a folder" in _one_line(err)


def test_story_nested_too_deeply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    code, err = _run_cli(monkeypatch, capsys, "make", "--story", str(deep))
    assert code == 2 and "nested too deeply" in _one_line(err)


def _limited(mem: int) -> Any:
    def apply() -> None:  # so the old code's unbounded read fails fast instead of filling the machine
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    return apply


def _deepflix(args: list[str], tmp: Path, timeout: float, env: dict[str, str] | None = None) -> tuple[int | None, str]:
    """Run the CLI in a process of its own; (None, stderr so far) when it was still running at ``timeout``."""
    full = {**os.environ, "PYTHONPATH": CODE, "DEEPFLIX_DATA_DIR": str(tmp / "data"), **(env or {})}
    full.pop("REDIS_URL", None)
    full.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "deepflix", *args], env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=_limited(6 << 30))  # noqa: PLW1509 (a memory cap; nothing else runs in the child)
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        proc.terminate()  # serve stops its Redis on SIGTERM
        _, err = proc.communicate(timeout=60)
        return None, err


def test_story_from_an_endless_device_is_a_bounded_read(tmp_path: Path) -> None:
    code, err = _deepflix(["make", "--story", "/dev/zero"], tmp_path, timeout=120)
    assert code == 2, err[-500:]
    assert "larger than 10 MB" in _one_line(err)


# ---- 12: serve's port

@pytest.mark.parametrize("how", ["option", "env"])
def test_serve_refuses_a_port_out_of_range(tmp_path: Path, how: str) -> None:
    args, env = (["serve", "--port", "99999"], {}) if how == "option" else (["serve"], {"PORT": "99999"})
    code, err = _deepflix(args, tmp_path, timeout=60, env=env)
    assert code == 2, err[-800:]
    line = _one_line(err)
    assert "99999" in line and "65535" in line


# ---- 13: the data folder

def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_data_folder_store_and_database_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deepflix import db
    from deepflix.core import config
    from deepflix.storage import open_store

    data = tmp_path / "data"
    monkeypatch.setenv("DEEPFLIX_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config.reload_settings()
    try:
        store = open_store()
        assert _mode(data) == 0o700 and _mode(data / "store") == 0o700
        st = store.staging("ab" * 32)
        (st.dir / "x.txt").write_text("x")
        db.migrate()
        assert _mode(data / "deepflix.db") == 0o600
        for extra in ("deepflix.db-wal", "deepflix.db-shm"):
            if (data / extra).exists():
                assert _mode(data / extra) & 0o077 == 0, extra
        # a folder made before, world-readable, is tightened when it is ours
        os.chmod(data, 0o755)
        os.chmod(data / "store", 0o755)
        open_store()
        assert _mode(data) == 0o700 and _mode(data / "store") == 0o700
    finally:
        db.dispose_engines()
        monkeypatch.undo()
        config.reload_settings()


def test_embedded_redis_files_are_private(tmp_path: Path) -> None:
    from deepflix.jobs.redis_server import start_embedded_redis, stop_embedded_redis

    old = tmp_path / "redis"
    old.mkdir(mode=0o755)
    (old / "redis.log").write_text("from before\n")
    os.chmod(old / "redis.log", 0o644)
    start_embedded_redis(tmp_path)
    try:
        assert _mode(tmp_path) == 0o700 and _mode(old) == 0o700
        files = [p for p in old.rglob("*") if p.is_file() and not p.is_socket()]
        assert any("appendonly" in str(p.relative_to(old)) for p in files), files
        for p in files:
            assert _mode(p) & 0o077 == 0, (p, oct(_mode(p)))
    finally:
        stop_embedded_redis()
