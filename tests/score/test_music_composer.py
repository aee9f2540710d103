"""builtin/composer: a score that follows the film, sounds like its genre, and ends on time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepflix.errors import InvalidInput
from deepflix.models import GENRES, ScoreCue, ScoreRequest
from deepflix.plugins import get_provider
from deepflix.provider import StageContext
from deepflix.score import composer, dsp
from deepflix.score.composition import analysis, arrange, theory
from deepflix.score.composition.render import Synth
from deepflix.score.composition.styles import style_for

RATE = 48000


def film_request(genre: str, duration: float = 24.0, seed: int = 0) -> ScoreRequest:
    """Three scenes of uneven length and contrasting cues, like a planner's."""
    cuts = [0.0, round(duration * 0.37, 3), round(duration * 0.71, 3)]
    moods = [("mysterious", 0.3), ("tense", 0.8), ("hopeful", 0.5)]
    cues = [ScoreCue(start=s, duration=round(e - s, 3), mood=m, intensity=x)
            for s, e, (m, x) in zip(cuts, cuts[1:] + [duration], moods)]
    return ScoreRequest(genre=genre, seed=seed, cues=cues, duration=duration)


@pytest.fixture(scope="module")
def synth() -> Synth:
    return Synth()


@pytest.fixture(scope="module")
def renders(synth: Synth) -> dict[str, tuple[np.ndarray, dict]]:
    """A few genres rendered once for the audio checks (the rest are checked as notes)."""
    return {g: composer.render_score(film_request(g), synth) for g in ("noir", "horror", "adventure")}


def test_every_genre_has_its_own_sound(synth: Synth) -> None:
    seen = {}
    for genre in GENRES:
        notes, info = composer.compose(film_request(genre, 40.0), synth)
        assert len(notes) > 40, genre
        seen[genre] = (info["tempo"], info["key"], tuple(info["instruments"]))
    for a in GENRES:
        for b in GENRES:
            if a < b:
                assert seen[a] != seen[b], (a, b, seen[a])
                assert seen[a][2] != seen[b][2], f"{a} and {b} use the same instruments"
    # the genres' characters, not just any difference
    assert seen["comedy"][0] > seen["noir"][0] > seen["horror"][0]
    assert "muted trumpet" in seen["noir"][2] and "brush kit" in seen["noir"][2]
    assert "harp" in seen["fantasy"][2] and "flute" in seen["fantasy"][2]
    assert "pizzicato strings" in seen["comedy"][2] and "bassoon" in seen["comedy"][2]
    assert "timpani" in seen["adventure"][2] and "french horns" in seen["adventure"][2]


def test_sections_start_on_the_cuts_and_tempo_fits(synth: Synth) -> None:
    req = film_request("adventure", 31.3)
    style = style_for("adventure")
    tonic = arrange.choose_key(style, req.seed, req)
    sections, hold = arrange.plan(req, style, tonic)
    assert [s.start for s in sections] == [c.start for c in req.cues]
    for s in sections[:-1]:
        assert s.beats[0] == pytest.approx(s.start) and s.beats[-1] == pytest.approx(s.end)
        fitted = s.n_beats / (s.end - s.start) * 60
        assert fitted == pytest.approx(s.bpm, rel=0.2)  # bent to whole bars, not broken
    last = sections[-1]
    assert last.beats[-1] == pytest.approx(hold) and req.duration - hold >= 2.5
    # ritardando: the last beats are longer than the first ones of the final section
    d = np.diff(last.beats)
    assert d[-1] > d[0] * 1.2
    # the cadence: V then the tonic held to the end
    assert last.chords[-1].root == (tonic + 7) % 12


def test_intensity_thickens_the_texture(synth: Synth) -> None:
    def request(x: float) -> ScoreRequest:
        return ScoreRequest(genre="sci-fi", cues=[ScoreCue(start=0, duration=30, mood="tense", intensity=x)], duration=30)

    quiet, _ = composer.compose(request(0.1), synth)
    loud, _ = composer.compose(request(0.95), synth)
    assert len(loud) > 1.5 * len(quiet)
    assert np.mean([n.vel for n in loud]) > np.mean([n.vel for n in quiet]) + 20
    assert {n.program for n in loud} > {n.program for n in quiet}  # drums and swells come in


def test_rendered_scores_are_music_not_noise(renders: dict[str, tuple[np.ndarray, dict]]) -> None:
    for genre, (x, _info) in renders.items():
        req = film_request(genre)
        assert x.shape == (int(round(req.duration * RATE)), 2)
        assert dsp.true_peak_db(x) <= -1.0 + 1e-3, genre  # no clipping, and room for the codec
        assert analysis.longest_silence(x[: -int(3 * RATE)], RATE) < 2.0, genre  # the ending fades by design
        assert analysis.spectral_flatness(x, RATE) < 0.05, genre  # white noise is 0.56
        style = style_for(genre)
        tonic = arrange.choose_key(style, req.seed, req)
        sections, _ = arrange.plan(req, style, tonic)
        s = sections[-1]  # a consonant section: mostly on its scale (random pitches: 7/12 = 0.58)
        seg = x[int(s.start * RATE): int(s.end * RATE)]
        assert analysis.in_scale_fraction(seg, RATE, theory.scale_pcs(tonic, s.mode)) > 0.75, genre
        # it ends home: the last 2.5 s are mostly the tonic triad, faded to nothing at the last sample
        tail = analysis.chroma(x[-int(2.5 * RATE):], RATE)
        assert tail[list(theory.tonic_chord(tonic, s.mode).pcs)].sum() > 0.7, genre  # 3 of 12 pitch classes: 0.25 by chance
        assert np.abs(x[-48:]).max() < 1e-3


def test_film_length_score_is_never_silent(synth: Synth) -> None:
    req = ScoreRequest(genre="romance", seed=4, duration=75.0, cues=[
        ScoreCue(start=0, duration=20, mood="calm", intensity=0.1),
        ScoreCue(start=20, duration=25, mood="sad", intensity=0.2),
        ScoreCue(start=45, duration=30, mood="romantic", intensity=0.4)])
    x, _ = composer.render_score(req, synth)
    assert analysis.longest_silence(x[: -int(3 * RATE)], RATE, floor_db=-50) < 2.0


def test_provider_is_deterministic_and_exact(tmp_path: Path) -> None:
    prov = get_provider("score")  # the default
    assert prov.provider_id == "builtin/composer"
    req = film_request("noir", duration=12.34567)
    outs = []
    for i in range(2):
        d = tmp_path / str(i)
        d.mkdir()
        res = prov.generate(req, StageContext(out_dir=d))
        outs.append((d / res.audio).read_bytes())
    assert outs[0] == outs[1]
    rate, x = dsp.read_wav(tmp_path / "0" / res.audio)
    assert rate == 48000 and x.shape == (round(12.34567 * 48000), 2)
    assert res.duration == req.duration and res.tempo > 0 and res.key and res.instruments
    other = prov.generate(req.model_copy(update={"seed": 9}), StageContext(out_dir=tmp_path))
    assert (tmp_path / other.audio).read_bytes() != outs[0]


def test_bad_requests_are_refused() -> None:
    prov = get_provider("score", "builtin/composer")
    late = ScoreRequest(genre="drama", cues=[ScoreCue(start=50, duration=5)], duration=30)
    with pytest.raises(InvalidInput, match="after the film's end"):
        prov.check_inputs(late)
    with pytest.raises(InvalidInput, match="limit"):
        prov.check_inputs(ScoreRequest(genre="drama", cues=[ScoreCue(start=0, duration=5)], duration=99999))


@pytest.mark.parametrize("duration", [2.5, 30.0])
def test_the_streamed_score_is_the_in_memory_one_and_leaves_no_file(tmp_path: Path, synth: Synth,
                                                                      duration: float) -> None:
    """write_score holds a block at a time (a 10-minute score is 230 MB in memory), yet
    writes render_score's bytes: a note rings on across blocks, the reverb's tail carries,
    the fades land on the right samples. 30 s spans several of the room's blocks;
    2.5 s is shorter than one and than the end fade's full length."""
    req = film_request("adventure", duration=duration, seed=2)
    x, info = composer.render_score(req, synth)
    dsp.write_wav(tmp_path / "whole.wav", RATE, x)
    d = tmp_path / "streamed"
    d.mkdir()
    assert composer.write_score(req, d / "score.wav", synth) == info
    assert (d / "score.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()
    assert [p.name for p in d.iterdir()] == ["score.wav"]  # the wet temp file is gone


def test_the_dry_mix_does_not_depend_on_the_block(synth: Synth) -> None:
    notes, _ = composer.compose(film_request("noir", duration=9.0), synth)
    notes.sort(key=lambda nt: nt.start)
    n = 9 * RATE
    whole = synth.render(notes, n)
    for block in (4801, 48000):
        assert np.array_equal(np.concatenate(list(synth.blocks(notes, n, block))), whole)
