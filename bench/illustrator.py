"""How long the built-in illustrator takes per picture, on one core.

    python bench/illustrator.py [--size 1920x1080] [--repeat 2]

Prints, per setting and on average: drawing only, drawing + writing the PNG
image and the RGBA layers (what the provider does by default), and drawing +
a JPEG image without layers. Times are CPU time of this (single-threaded)
process, so a busy machine inflates them less than wall time; the wall time of
drawing is printed too.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402

cv2.setNumThreads(1)  # one core: OpenCV would otherwise use every core for resizes and blurs

from deepflix.models import SETTINGS, CharacterSheet, GenerationParams, PictureRequest, SceneVisual  # noqa: E402
from deepflix.picture.illustrator import Illustrator, render  # noqa: E402
from deepflix.provider import StageContext  # noqa: E402

CAST = [
    CharacterSheet(id="keeper", name="Elias", base_traits="old broad lighthouse keeper", facial_features="grey beard",
                   clothing="navy sweater, brown trousers", distinctive_features="grey beard"),
    CharacterSheet(id="mara", name="Mara", base_traits="young slender woman", facial_features="long red hair",
                   clothing="green coat, black skirt", distinctive_features="white scarf"),
]
TIMES = ("dawn", "day", "dusk", "night")
WEATHER = ("clear", "rain", "fog", "snow", "cloudy", "storm", "wind")
SHOTS = ("wide", "medium", "close", "wide")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    reqs = [PictureRequest(
        scene=SceneVisual(scene_description="bench", atmosphere="calm", setting=s, time_of_day=TIMES[i % 4],
                          weather=WEATHER[i % 7], shot=SHOTS[i % 4], characters=[c.id for c in CAST]),
        characters=CAST, genre="drama", width=w, height=h, params=GenerationParams(seed=1), scene_index=i)
        for i, s in enumerate(SETTINGS)]
    render(reqs[0])  # warm up imports and caches
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for req in reqs:
            t = {"draw": 1e9, "png+layers": 1e9, "jpeg": 1e9, "wall": 1e9}
            for _ in range(args.repeat):
                t0, w0 = time.process_time(), time.perf_counter()
                render(req)
                t["draw"] = min(t["draw"], time.process_time() - t0)
                t["wall"] = min(t["wall"], time.perf_counter() - w0)
                for label, opts in (("png+layers", {}), ("jpeg", {"image_format": "jpeg", "layers": False})):
                    out = Path(tmp) / label
                    out.mkdir(exist_ok=True)
                    t0 = time.process_time()
                    Illustrator(opts).generate(req, StageContext(out_dir=out))
                    t[label] = min(t[label], time.process_time() - t0)
            size = sum(f.stat().st_size for f in (Path(tmp) / "png+layers").iterdir())
            rows.append((req.scene.setting, t, size))
            print(f"{req.scene.setting:<13} {req.scene.time_of_day:<5} {req.scene.weather:<7} draw {t['draw'] * 1000:6.0f} ms (wall {t['wall'] * 1000:4.0f})"
                  f"   png+layers {t['png+layers'] * 1000:6.0f} ms ({size / 1e6:4.1f} MB)   jpeg {t['jpeg'] * 1000:6.0f} ms")
    n = len(rows)
    print(f"{w}x{h} mean over {n} settings, CPU time on one core: draw {sum(r[1]['draw'] for r in rows) / n * 1000:.0f} ms, "
          f"draw + PNG image + layers {sum(r[1]['png+layers'] for r in rows) / n * 1000:.0f} ms, "
          f"draw + JPEG image {sum(r[1]['jpeg'] for r in rows) / n * 1000:.0f} ms")


if __name__ == "__main__":
    main()
