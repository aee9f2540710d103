"""Quality (issue 24): the story consistency checker and the film QA report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import console, out


def check_story_cmd(file: Annotated[Path, typer.Argument(help="a story.json (or a film.json manifest)")]) -> None:
    """List the contradictions in a story; exit 1 when there are any, 0 when it is clean."""
    from ..pipeline import load_story_file
    from ..quality.consistency import check_story

    findings = check_story(load_story_file(file))
    for f in findings:
        out.print(str(f), markup=False, highlight=False, soft_wrap=True)
    if findings:
        console.print(f"{len(findings)} contradiction(s)")
        sys.exit(1)  # not typer.Exit: main() runs the app with standalone_mode=False, which returns its code
    out.print("no contradictions found")


def _write_qa(film_dir: Path, target_lufs: float) -> None:
    from ..quality.qa import hearing_by_default, run_qa
    from ..storage import open_store

    try:
        # by ear only when asked: loading the speech model costs seconds on every make; the
        # picture a segment at a time from the store, so an edit decodes only what it re-encoded
        report = run_qa(film_dir, target_lufs=target_lufs, hearing=hearing_by_default() or False,
                        store=open_store())
    except Exception as exc:  # the film is made; a QA fault must not fail the command
        console.print(f"qa: not measured ({type(exc).__name__}: {exc})")
        return
    failed = [c["name"] for c in report["checks"] if not c["passed"]]
    out.print(f"      qa: {film_dir / 'qa.json'} " + ("(every check passed)" if not failed else f"(failed: {', '.join(failed)})"))


def qa_cmd(
    film_dir: Annotated[Path, typer.Argument(help="a film folder (movie.mp4, movie.srt, story.json)")],
    target: Annotated[float, typer.Option(help="the integrated loudness the film should have, LUFS")] = -16.0,
    hearing: Annotated[bool | None, typer.Option("--hearing/--no-hearing",
                                                    help="speech by ear (default: when the qa extra is installed)")] = None,
) -> None:
    """Measure a finished film, write qa.json beside it; exit 1 when a check fails."""
    from ..quality.qa import run_qa

    report = run_qa(film_dir, target_lufs=target, hearing=hearing)
    for c in report["checks"]:
        out.print(f"{'pass' if c['passed'] else 'FAIL'}  {c['name']:<24} {c['value']!s:<10} {c['threshold']}",
                  markup=False, highlight=False)
    out.print(f"wrote {Path(film_dir) / 'qa.json'}")
    if not report["passed"]:
        sys.exit(1)
