"""The film as an OpenTimelineIO timeline, built from the same plan the cut used
(pipeline.timeline, cut_request, subtitle_cues), so every clip lands on the
frame where the film shows it.

Tracks: "Picture" (one clip per scene: its still, or its video clip when the
picture provider made one, the camera move in the clip's metadata, the
transitions between), one audio track per voice ("Narrator", then each speaking
character) holding a clip per spoken line, cut from that scene's speech WAV,
and "Score". Subtitles are markers on the scene clips they fall in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import opentimelineio as otio

from .. import pipeline
from ..models import CutRequest, SpeechResult
from ..runner import StageOutcome
from .sources import FilmSources

HANDLE_SECONDS = 3.0  # media before and after each still, so editors (and EDL dissolves) can trim into it
META = "deepflix"


def cut_plan(src: FilmSources) -> CutRequest | Any:
    """The cut's own request for this film: scene starts, lengths, moves, transitions, cues."""
    story, fps = src.story, src.fps
    speech: list[SpeechResult] = [s.result for s in src.speech]
    slots = pipeline.timeline(story, speech, fps)

    def outcome(stage: str, st: Any) -> StageOutcome:
        return StageOutcome(stage, st.key, st.result, True, 0.0, src.providers.get(stage, ""))

    cues = pipeline.subtitle_cues(story, slots, speech, fps)
    opts = pipeline.FilmOptions(fps=fps)
    pics, spoken = [outcome("picture", p) for p in src.pictures], [outcome("speech", s) for s in src.speech]
    return pipeline.layout(story, slots, pics, spoken, cues, opts, src.providers)  # the cut's own layout


def _frames(t: float, fps: int) -> int:
    return round(t * fps)


def build_timeline(src: FilmSources, url: Callable[[str], str]) -> otio.schema.Timeline:
    """``url(label)`` names each medium ("picture:0", "clip:0", "speech:0", "score")
    as the export will reference it (relative to the exported file)."""
    fps = src.fps
    plan = cut_plan(src)
    story = src.story

    def rt(frames: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, fps)

    def tr(start: int, dur: int) -> otio.opentime.TimeRange:
        return otio.opentime.TimeRange(rt(start), rt(dur))

    tl = otio.schema.Timeline(name=story.title)
    tl.global_start_time = rt(0)
    tl.metadata[META] = {"title": story.title, "logline": story.logline, "genre": story.genre, "fps": fps,
                         "providers": src.providers}
    handle = _frames(HANDLE_SECONDS, fps)

    # ---- picture: scene clips, each as long as the scene's frames in the cut
    video = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    scene_clips: list[otio.schema.Clip] = []
    for i, (sc, cs) in enumerate(zip(story.scenes, plan.scenes)):
        start, n = _frames(cs.start, fps), _frames(cs.duration, fps)
        label = f"clip:{i}" if cs.clip else f"picture:{i}"
        ref = otio.schema.ExternalReference(target_url=url(label), available_range=tr(0, handle + n + handle))
        clip = otio.schema.Clip(name=f"Scene {i + 1}", media_reference=ref, source_range=tr(handle, n))
        clip.metadata[META] = {
            "scene": i + 1, "camera_move": cs.camera_move, "shot": sc.shot, "setting": sc.setting,
            "location": sc.location, "time_of_day": sc.time_of_day, "record_start_frame": start,
            "speech_offset": cs.speech_offset, "characters": sc.characters,
            "title_card": i == 0, "credits": i == len(story.scenes) - 1,
        }
        if i > 0:
            prev = plan.scenes[i - 1]
            if prev.transition != "cut":
                video.append(transition(prev.transition, _frames(pipeline.TRANSITION_SECONDS, fps), fps))
        video.append(clip)
        scene_clips.append(clip)

    # ---- subtitles: markers on the clip of their scene, in the clip's source time
    for cue in plan.subtitles:
        cs = plan.scenes[cue.scene_index]
        a = _frames(cue.start - cs.start, fps)
        b = max(a + 1, _frames(cue.end - cs.start, fps))
        marker = otio.schema.Marker(name=" ".join(cue.text.split()), marked_range=tr(handle + a, b - a),
                                    color=otio.schema.MarkerColor.YELLOW)
        marker.metadata[META] = {"subtitle": cue.text, "start": cue.start, "end": cue.end}
        scene_clips[cue.scene_index].markers.append(marker)
    tl.tracks.append(video)

    # ---- speech: a track per voice, a clip per line
    lines: dict[str, list[tuple[int, int, int, int, Any]]] = {}
    for i, (cs, sp) in enumerate(zip(plan.scenes, src.speech)):
        res: SpeechResult = sp.result
        base = cs.start + cs.speech_offset
        for seg in res.segments:
            at, src_in = _frames(base + seg.start, fps), _frames(seg.start, fps)
            n = max(1, _frames(seg.end, fps) - src_in)
            lines.setdefault(seg.speaker, []).append((at, src_in, n, i, seg))
    wav_frames = {i: _frames(sp.result.duration, fps) + 1 for i, sp in enumerate(src.speech)}
    speakers = sorted(lines, key=lambda s: (s != "narrator", [c.id for c in story.characters].index(s)
                                            if s in {c.id for c in story.characters} else 0))
    for who in speakers:
        name = "Narrator" if who == "narrator" else story.character(who).name
        track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
        track.metadata[META] = {"speaker": who}
        t = 0
        for k, (at, src_in, n, i, seg) in enumerate(sorted(lines[who], key=lambda x: x[0])):
            at = max(at, t)  # rounding never lets two lines of one voice overlap
            if at > t:
                track.append(otio.schema.Gap(source_range=tr(0, at - t)))
            ref = otio.schema.ExternalReference(target_url=url(f"speech:{i}"),
                                                available_range=tr(0, max(wav_frames[i], src_in + n)))
            # a plain, unique name: the FCPXML adapter looks assets up by name in an XPath
            clip = otio.schema.Clip(name=f"{name} {k + 1}", media_reference=ref, source_range=tr(src_in, n))
            clip.metadata[META] = {"scene": i + 1, "speaker": who, "text": seg.text,
                                   "kind": "narration" if who == "narrator" else "dialogue"}
            track.append(clip)
            t = at + n
        tl.tracks.append(track)

    # ---- score: one clip under the whole film
    total = sum(_frames(cs.duration, fps) for cs in plan.scenes)
    score = otio.schema.Track(name="Score", kind=otio.schema.TrackKind.Audio)
    sref = otio.schema.ExternalReference(target_url=url("score"),
                                         available_range=tr(0, max(total, _frames(src.score.result.duration, fps))))
    sclip = otio.schema.Clip(name="Score", media_reference=sref, source_range=tr(0, total))
    sclip.metadata[META] = {"tempo": src.score.result.tempo, "key": src.score.result.key}
    score.append(sclip)
    tl.tracks.append(score)
    return tl


def transition(kind: str, frames: int, fps: int) -> otio.schema.Transition:
    """A DeepFlix transition: it plays over the outgoing scene's last frames (in_offset),
    showing the incoming scene's opening framing, so it ends on the cut (out_offset 0)."""
    t_type = otio.schema.TransitionTypes.SMPTE_Dissolve if kind == "crossfade" else otio.schema.TransitionTypes.Custom
    tr = otio.schema.Transition(name=kind, transition_type=t_type, in_offset=otio.opentime.RationalTime(frames, fps),
                                out_offset=otio.opentime.RationalTime(0, fps))
    tr.metadata[META] = {"transition": kind}
    return tr
