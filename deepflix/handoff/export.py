"""`deepflix export`: write a finished film's timeline for an editor, with its
media linked (or copied) next to it in media/, referenced by relative paths, so
the folder can be moved or zipped whole.

  otio    OpenTimelineIO JSON: every track, transition, marker and note
  fcpxml  Final Cut Pro X XML (otio-fcpx-xml-adapter): the tracks and markers;
          the adapter writes no transitions, so the scenes butt-cut there
  edl     CMX 3600 (otio-cmx3600-adapter): the picture track with its dissolves
          and the subtitles as LOC markers (an EDL holds one video track)
"""

from __future__ import annotations

import copy
import io
import os
import shutil
import zipfile
from pathlib import Path

import opentimelineio as otio

from ..errors import InvalidInput
from ..models import slug
from .sources import FilmSources
from .timeline import build_timeline

FORMATS = {"otio": ("otio_json", ".otio"), "fcpxml": ("fcpx_xml", ".fcpxml"), "edl": ("cmx_3600", ".edl")}
MEDIA_DIR = "media"


def check_format(fmt: str) -> str:
    f = fmt.strip().lower()
    if f not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return f


def media_files(src: FilmSources) -> dict[str, tuple[str, Path]]:
    """label -> (path relative to the export, stored file)."""
    out: dict[str, tuple[str, Path]] = {}
    for i, (pic, sp) in enumerate(zip(src.pictures, src.speech)):
        image = pic.result.image
        out[f"picture:{i}"] = (f"{MEDIA_DIR}/scene-{i + 1:02d}{Path(image).suffix or '.png'}",
                               src.store.local_path(pic.key, image))
        if pic.result.clip:
            out[f"clip:{i}"] = (f"{MEDIA_DIR}/scene-{i + 1:02d}-clip{Path(pic.result.clip).suffix or '.mp4'}",
                                src.store.local_path(pic.key, pic.result.clip))
        out[f"speech:{i}"] = (f"{MEDIA_DIR}/scene-{i + 1:02d}-speech{Path(sp.result.audio).suffix or '.wav'}",
                              src.store.local_path(sp.key, sp.result.audio))
    out["score"] = (f"{MEDIA_DIR}/score{Path(src.score.result.audio).suffix or '.wav'}",
                    src.store.local_path(src.score.key, src.score.result.audio))
    return out


def _place(src: Path, dest: Path) -> None:
    """A hard link when the store is on the same disk (no copy), else a copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and os.path.samefile(src, dest):
        return  # linked by an earlier export (and rename() onto the same file would leave the temp name behind)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    tmp.replace(dest)


def for_format(tl: otio.schema.Timeline, fmt: str) -> otio.schema.Timeline:
    """What each adapter can carry (see the module docstring)."""
    if fmt == "otio":
        return tl
    tl = copy.deepcopy(tl)
    for track in tl.tracks:
        for item in list(track):
            if isinstance(item, otio.schema.Transition):
                if fmt == "fcpxml":
                    track.remove(item)
                else:  # an EDL codes dissolves; the DeepFlix kind stays in the name
                    item.transition_type = otio.schema.TransitionTypes.SMPTE_Dissolve
    if fmt == "edl":
        for track in [t for t in tl.tracks if t.kind != otio.schema.TrackKind.Video]:
            tl.tracks.remove(track)
    return tl


def timeline_text(src: FilmSources, fmt: str) -> tuple[str, dict[str, tuple[str, Path]]]:
    fmt = check_format(fmt)
    media = media_files(src)
    tl = build_timeline(src, lambda label: media[label][0])
    return otio.adapters.write_to_string(for_format(tl, fmt), FORMATS[fmt][0]), media


def export_film(src: FilmSources, fmt: str, out_dir: Path, name: str | None = None) -> Path:
    """Write <out_dir>/<name>.<ext> and its media under <out_dir>/media/; returns the file."""
    text, media = timeline_text(src, fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for rel, stored in media.values():
        _place(stored, out_dir / rel)
    path = out_dir / f"{name or slug(src.story.title)}{FORMATS[check_format(fmt)][1]}"
    path.write_text(text)
    return path


def export_zip(src: FilmSources, fmt: str) -> tuple[bytes, str]:
    """The export and its media in one zip (what the API serves); returns (bytes, file name)."""
    text, media = timeline_text(src, fmt)
    name = slug(src.story.title)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}/{name}{FORMATS[check_format(fmt)][1]}", text)
        for rel, stored in media.values():
            z.write(stored, f"{name}/{rel}")
    return buf.getvalue(), f"{name}-{check_format(fmt)}.zip"
