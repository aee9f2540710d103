"""Black and frozen stretches of a picture, found by ffmpeg's detectors as its frames pass.

``blackdetect`` and ``freezedetect`` pass every frame on unchanged and mark where a
stretch starts and ends; the ``metadata`` filter writes those marks to a file in
ffmpeg's working folder (a bare name: no path to escape in the graph). The segment
stage puts them in its encoder's graph, so a segment's stretches are measured on the
frames it encodes, at the cost of the detectors alone (the decode the QA paid before
was ~85% of its picture check); the QA runs the same graph on a decoded file that no
segment measured (quality/by_segment.py)."""

from __future__ import annotations

import re
from pathlib import Path

BLACK_PIX = 0.10  # a pixel darker than this (of the range) is black, as quality/media.detect
FREEZE_NOISE = "-60dB"  # frames closer than this are the same picture
FOUND = "picture-stretches.txt"  # the metadata filter's file, in ffmpeg's working folder
MEASURED_BY = f"blackdetect pix_th={BLACK_PIX}; freezedetect n={FREEZE_NOISE}"  # kept beside what they found

_MARK = re.compile(r"^lavfi\.(black_start|black_end|freezedetect\.freeze_start|freezedetect\.freeze_end)=(-?[\d.]+)$",
                   re.MULTILINE)


def detectors() -> str:
    """The filters (for ``-vf``): every black and frozen stretch, however short (d=0: one
    that runs into the next segment may be the start of a long one), marked in ``FOUND``."""
    return f"blackdetect=d=0:pix_th={BLACK_PIX},freezedetect=n={FREEZE_NOISE}:d=0,metadata=mode=print:file={FOUND}"


def read_found(path: Path, seconds: float) -> dict[str, list[list[float]]]:
    """The stretches marked in ``path``, [start, end] in seconds; one still open at the end
    runs to ``seconds`` (the picture's length). OSError when ffmpeg wrote no file."""
    text = path.read_text()
    out: dict[str, list[list[float]]] = {"black": [], "frozen": []}
    for name, value in _MARK.findall(text):
        kind = "black" if name.startswith("black") else "frozen"
        if name.endswith("_start"):
            out[kind].append([float(value), seconds])
        elif out[kind]:
            out[kind][-1][1] = float(value)
    return out
