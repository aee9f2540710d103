"""`deepflix make --batch FILE`: many films, one request a line.

A line is a prompt (made with the command's own options), or a JSON object with
per-film options: {"prompt": ..., "genre": ..., "scenes": ..., "seed": ...,
"aspect": ..., "resolution": ..., "out": ...}. Blank lines and # comments are
skipped. Films are made in turn, here or (with --server) by a DeepFlix service;
a bad line is reported and the others go on. A film already made (its folder
holds it, or the service finished it in an earlier run, kept in FILE.done.json)
is skipped, so running the batch again makes only what is missing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import DeepFlixError, InvalidInput
from .films import FilmAsk, is_made, make_one


@dataclass
class Row:
    line: int
    prompt: str
    status: str  # made | skipped | failed
    detail: str = ""  # the film's folder or id, or the error
    title: str = ""
    seconds: float = 0.0


def _why(exc: ValidationError) -> str:
    e = exc.errors()[0]
    where = ".".join(str(x) for x in e["loc"])
    return f"{where}: {e['msg']}" if where else str(e["msg"])


def read_batch(path: Path, defaults: dict[str, Any]) -> list[tuple[int, str, FilmAsk | str]]:
    """(line number, prompt as written, the request or why the line is bad)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"batch file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"batch file {path} is not UTF-8 text") from exc
    out: list[tuple[int, str, FilmAsk | str]] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                out.append((no, line[:60], f"not valid JSON: {exc.msg} at column {exc.colno}"))
                continue
            if not isinstance(data, dict):
                out.append((no, line[:60], "a JSON line must be an object with a \"prompt\""))
                continue
        else:
            data = {"prompt": line}
        try:
            out.append((no, str(data.get("prompt", ""))[:60], FilmAsk.model_validate({**defaults, **data})))
        except ValidationError as exc:
            out.append((no, str(data.get("prompt", ""))[:60], _why(exc)))
    if not out:
        raise InvalidInput(f"batch file {path} holds no prompts: write one prompt a line, or JSON Lines")
    return out


def run_local(items: list[tuple[int, str, FilmAsk | str]], films: Path, report: Any = print) -> list[Row]:
    rows = []
    for no, prompt, ask in items:
        if isinstance(ask, str):
            report(f"error: line {no}: {ask}")
            rows.append(Row(no, prompt, "failed", ask))
            continue
        folder = ask.folder(films)
        if is_made(folder):
            title = json.loads((folder / "film.json").read_text())["story"]["title"]
            rows.append(Row(no, ask.prompt, "skipped", str(folder), title))
            continue
        t0 = time.perf_counter()
        try:
            res = make_one(ask, folder)
        except DeepFlixError as exc:
            report(f"error: line {no}: {exc}")
            rows.append(Row(no, ask.prompt, "failed", str(exc), seconds=time.perf_counter() - t0))
            continue
        rows.append(Row(no, ask.prompt, "made", str(folder), res.story.title, time.perf_counter() - t0))
    return rows


def run_remote(items: list[tuple[int, str, FilmAsk | str]], client: Any, state_file: Path,
               report: Any = print, poll: float = 1.0) -> list[Row]:
    """Submit each film to the service (client: handoff.remote.ServiceClient), then follow them all."""
    done: dict[str, str] = json.loads(state_file.read_text()) if state_file.exists() else {}
    rows: list[Row] = []
    pending: dict[str, tuple[Row, float]] = {}
    for no, prompt, ask in items:
        if isinstance(ask, str):
            report(f"error: line {no}: {ask}")
            rows.append(Row(no, prompt, "failed", ask))
            continue
        fid = ask.film_id()
        if fid in done:
            try:
                movie = client.status(done[fid])
            except DeepFlixError:
                movie = {}
            if movie.get("status") == "succeeded":
                rows.append(Row(no, ask.prompt, "skipped", done[fid], movie.get("title") or ""))
                continue
        try:
            mid = client.make(ask)
        except DeepFlixError as exc:
            report(f"error: line {no}: {exc}")
            rows.append(Row(no, ask.prompt, "failed", str(exc)))
            continue
        row = Row(no, ask.prompt, "made", mid)
        rows.append(row)
        pending[fid] = (row, time.perf_counter())
    while pending:
        for fid, (row, t0) in list(pending.items()):
            movie = client.status(row.detail)
            if movie["status"] in ("succeeded", "failed", "cancelled"):
                row.seconds, row.title = time.perf_counter() - t0, movie.get("title") or ""
                if movie["status"] == "succeeded":
                    done[fid] = row.detail
                else:
                    row.status, row.detail = "failed", movie.get("error") or movie["status"]
                    report(f"error: line {row.line}: {row.detail}")
                del pending[fid]
        if pending:
            time.sleep(poll)
    state_file.write_text(json.dumps(done, indent=2))
    return rows


def summary_table(rows: list[Row]) -> Any:
    from rich.table import Table

    made = sum(r.status == "made" for r in rows)
    skipped = sum(r.status == "skipped" for r in rows)
    failed = sum(r.status == "failed" for r in rows)
    table = Table(title=f"batch: {made} made, {skipped} already made, {failed} failed", show_edge=False)
    for col, just in (("line", "right"), ("prompt", "left"), ("status", "left"), ("title", "left"),
                      ("s", "right"), ("film or error", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(str(r.line), r.prompt[:40], r.status, r.title[:40], f"{r.seconds:.1f}" if r.seconds else "",
                      r.detail)
    return table
