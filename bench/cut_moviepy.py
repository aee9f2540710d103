"""The same edit made with MoviePy 2, for bench/cut.py (run by an interpreter that has
MoviePy; never imported by deepflix). Usage: python cut_moviepy.py SPEC.json

Ken Burns (a zoom per scene), a cross-fade into each scene, subtitles (white with a
black outline), speech over music ducked under it; H.264 + AAC at the spec's settings.
Prints one JSON line: wall time, CPU, and peak RSS (sampled) of this process and its ffmpeg.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            lines = f.read().splitlines()
        for line in lines:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    # loaded before the clock starts, as ours is (bench/cut.py warm_imports)
    from moviepy import (
        AudioFileClip,
        CompositeAudioClip,
        CompositeVideoClip,
        ImageClip,
        TextClip,
        afx,
        vfx,
    )
    t0 = time.perf_counter()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    samples: list[tuple[int, int]] = []
    done = []

    def sample() -> None:  # RSS of this process and its ffmpeg children, at the same moments
        me = os.getpid()
        while not done:
            samples.append((_rss_kb(me), sum(_rss_kb(k) for k in _children(me))))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()

    w, h, fps, xf = spec["width"], spec["height"], spec["fps"], spec["transition"]
    clips, voices = [], []
    for i, sc in enumerate(spec["scenes"]):
        start, dur = sc["start"], sc["duration"]
        lead = xf if i > 0 else 0.0  # the cross-fade into this scene plays over the previous one's tail
        base = ImageClip(sc["picture"]).resized(height=h)
        zoom = lambda t, d=dur + lead: 1.0 + 0.12 * t / d
        clip = base.with_duration(dur + lead).resized(zoom).with_position("center").with_start(start - lead)
        if i > 0:
            clip = clip.with_effects([vfx.CrossFadeIn(xf)])
        clips.append(clip)
        voices.append(AudioFileClip(sc["speech"]).with_start(start + sc["speech_offset"]))
    subs = [
        TextClip(font=spec["font"], text=c["text"], font_size=spec["font_size"], color="white", stroke_color="black",
                 stroke_width=3, method="caption", size=(int(w * 0.8), None), text_align="center")
        .with_start(c["start"]).with_duration(c["end"] - c["start"]).with_position(("center", int(h * 0.78)))
        for c in spec["cues"]
    ]
    video = CompositeVideoClip(clips + subs, size=(w, h)).with_duration(spec["duration"])
    music = AudioFileClip(spec["music"])
    ducks = [afx.MultiplyVolume(0.3, start_time=v.start, end_time=v.end) for v in voices]
    music = music.with_effects(ducks)
    if spec.get("lossless"):
        video.write_videofile(spec["out"], fps=fps, codec="libx264", preset="ultrafast", audio=False,
                              ffmpeg_params=["-qp", "0", "-pix_fmt", "yuv420p"], threads=2, logger=None)
    else:
        video = video.with_audio(CompositeAudioClip([music, *voices]).with_duration(spec["duration"]))
        video.write_videofile(spec["out"], fps=fps, codec="libx264", preset=spec["preset"], audio_codec="aac",
                              audio_bitrate="192k", ffmpeg_params=["-crf", str(spec["crf"]), "-pix_fmt", "yuv420p"],
                              threads=2, logger=None)
    done.append(True)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall": time.perf_counter() - t0,
        "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime - cpu0,
        "rss_mb": me.ru_maxrss / 1024, "sum_rss_mb": max(a + b for a, b in samples) / 1024,
    }))


if __name__ == "__main__":
    main()
