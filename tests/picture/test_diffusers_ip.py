"""diffusers/local's cast and its IP-Adapter, with a tiny randomly initialised pipeline and
a tiny IP-Adapter that the test builds and saves in the layout diffusers' ``load_ip_adapter``
reads (tiny_diffusion). What reaches the pipeline is recorded by wrapping the pipeline's own
``__call__``, which still runs."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image
from tiny_diffusion import build_ip_adapter, build_pipeline

from deepflix.errors import InvalidInput
from deepflix.film.options import FilmOptions
from deepflix.film.plan import PLAN, FilmParts
from deepflix.models import Character, GenerationParams, Scene, Story, StoryRequest
from deepflix.picture.diffusers import Diffusers, DiffusersPortrait
from deepflix.pipeline.film import make_film
from deepflix.pipeline.uploads import import_portrait
from deepflix.plugins import resolve_providers, stage_options, supports_references
from deepflix.provider import StageContext
from deepflix.runner import run_stage, stage_key
from deepflix.storage.local import LocalStore

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny-ip")
    pipeline = build_pipeline(root)
    return pipeline, build_ip_adapter(pipeline, root / "ip")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every pipeline call (the real call still runs)."""
    from diffusers import StableDiffusionPipeline

    seen: list[dict[str, Any]] = []
    real = StableDiffusionPipeline.__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionPipeline, "__call__", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing may be fetched: local paths only
    return seen


def _opts(models: tuple[Path, Path], **kw: Any) -> dict[str, Any]:
    return {"model_path": str(models[0]), "ip_adapter": str(models[1]), "long_side": 64, "device": "cpu", **kw}


def story() -> Story:
    nadia = Character(id="nadia", name="Nadia", base_traits="a tall woman", facial_features="dark eyes",
                      clothing="a red coat", distinctive_features="a scar")
    tom = Character(id="tom", name="Tom", base_traits="an old man", facial_features="a white beard",
                    clothing="a green sweater", distinctive_features="a pipe")
    scenes = [Scene(scene_description="On the pier.", atmosphere="calm", setting="coast", characters=["nadia", "tom"], narration="They meet."),
              Scene(scene_description="In the boat.", atmosphere="calm", setting="coast", characters=["tom"], narration="He rows."),
              Scene(scene_description="The empty lighthouse.", atmosphere="calm", setting="lighthouse", characters=[], narration="Wind.")]
    return Story(title="The Pier", genre="drama", seed=3, characters=[nadia, tom], scenes=scenes)


def _sha(rgb: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rgb).tobytes() + str(rgb.shape).encode()).hexdigest()


def _file_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _file_sha(store: LocalStore, key: str) -> str:
    return hashlib.sha256(store.local_path(key, "image.png").read_bytes()).hexdigest()


def _received(image: Any, h: int, w: int) -> str:
    """The hash of the portrait inside a reference the pipeline got (centred on its square backdrop)."""
    arr = np.asarray(image.convert("RGB"))
    side = arr.shape[0]
    y, x = (side - h) // 2, (side - w) // 2
    return _sha(arr[y:y + h, x:x + w])


def _film(models: tuple[Path, Path], **picture: Any) -> tuple[FilmOptions, dict[str, str]]:
    opts = FilmOptions(resolution="360p", params=GenerationParams(seed=3, steps=2, cfg_scale=4.0),
                       providers={"picture": "diffusers/local"}, provider_options={"picture": _opts(models, **picture)})
    return opts, resolve_providers(opts.providers)


def _cast(parts: FilmParts, store: LocalStore) -> None:
    opts, providers = parts.opts, parts.providers
    parts.put("cast", [run_stage("cast", PLAN["cast"].build(parts, i), store=store, provider=providers["cast"],
                                 options=stage_options("cast", providers, opts.provider_options))
                       for i in range(len(parts.story.characters))])


def _pictures(parts: FilmParts, store: LocalStore) -> list[Any]:
    return [run_stage("picture", PLAN["picture"].build(parts, i), store=store, provider="diffusers/local",
                      options=parts.opts.provider_options["picture"]) for i in range(len(parts.story.scenes))]


def test_scenes_are_conditioned_on_the_portraits_of_exactly_the_characters_present(
        models: tuple[Path, Path], calls: list[dict[str, Any]], tmp_path: Path) -> None:
    opts, providers = _film(models)
    assert providers["cast"] == "diffusers/local"  # the cast follows the picture provider, with its options
    assert supports_references(providers, opts.provider_options["picture"])
    assert not supports_references(providers, _opts(models, ip_adapter=None))
    store = LocalStore(tmp_path / "store")
    parts = FilmParts(opts, providers, story=story(), picture_references=True)
    _cast(parts, store)
    pipe = Diffusers(opts.provider_options["picture"]).pipeline()[1]
    # the adapter loaded from the local files: its projection in the UNet, the tiny encoder beside it
    assert type(pipe.unet.encoder_hid_proj).__name__ == "MultiIPAdapterImageProjection"
    assert pipe.image_encoder.config.projection_dim == 16
    portraits = [_file_rgb(store.local_path(oc.key, "portrait.png")) for oc in parts.outcomes("cast")]
    assert portraits[0].shape == (512, 768, 3) and _sha(portraits[0]) != _sha(portraits[1])

    calls.clear()
    pics = _pictures(parts, store)
    got = [[_received(im, 512, 768) for im in kw["ip_adapter_image"][0]] if "ip_adapter_image" in kw else None
           for kw in calls]
    nadia, tom = (_sha(p) for p in portraits)
    assert got == [[nadia, tom], [tom], None]  # each scene's cast, in order; nobody's in the empty scene
    assert "ip_adapter_image_embeds" in calls[2]  # the empty scene: a zero embedding the attention skips
    first = [_file_sha(store, p.key) for p in pics]

    # the same inputs again, in a fresh store: the same pictures, byte for byte
    again = LocalStore(tmp_path / "again")
    parts2 = FilmParts(opts, providers, story=story(), picture_references=True)
    _cast(parts2, again)
    assert [_file_sha(again, p.key) for p in _pictures(parts2, again)] == first

    # Nadia's portrait replaced by the user's: her scene is redrawn and differs; Tom's alone is untouched
    buf = io.BytesIO()
    Image.new("RGB", (300, 400), (20, 90, 200)).save(buf, format="PNG")
    mine = story()
    mine.characters[0].portrait = import_portrait(store, buf.getvalue())
    parts3 = FilmParts(opts, providers, story=mine, picture_references=True)
    _cast(parts3, store)
    calls.clear()
    pics3 = _pictures(parts3, store)
    assert [p.cached for p in pics3] == [False, True, True]
    assert _received(calls[0]["ip_adapter_image"][0][0], 512, 768) == _sha(
        _file_rgb(store.local_path(parts3.outcomes("cast")[0].key, "portrait.png")))
    assert _file_sha(store, pics3[0].key) != first[0]


def test_the_portrait_sheet_is_drawn_from_the_traits_and_the_adapter_never_redraws_it(
        models: tuple[Path, Path], calls: list[dict[str, Any]], tmp_path: Path) -> None:
    opts, providers = _film(models)
    parts = FilmParts(opts, providers, story=story(), picture_references=True)
    req = PLAN["cast"].build(parts, 0).model_copy(update={"width": 160, "height": 96})
    sheets = []
    for name, popts in (("with", _opts(models)), ("without", _opts(models, ip_adapter=None))):
        out = tmp_path / name
        out.mkdir()
        prov = DiffusersPortrait(popts)
        res = prov.portrait(req, StageContext(out_dir=out))
        assert (res.width, res.height, res.user) == (160, 96, False)
        sheet, face = cv2.imread(str(out / res.image)), cv2.imread(str(out / res.face))
        # the illustrator's layout: the figure on the left 60 %, the square face centred in the right panel
        assert sheet.shape == (96, 160, 3) and face.shape == (57, 57, 3)
        assert np.array_equal(sheet[19:76, 99:156], face)
        sheets.append((sheet, stage_key(prov, req)))
    # two passes, figure then face, each with the character's own seed and their traits' words
    assert all("Nadia (a tall woman, dark eyes, wearing a red coat, a scar)" in kw["prompt"] for kw in calls)
    # the view leads the prompt: CLIP reads 77 tokens, and a long description must not push it out
    assert [kw["prompt"].split(",")[0] for kw in calls] == ["full body", "face close-up"] * 2
    assert calls[0]["generator"].initial_seed() == calls[1]["generator"].initial_seed() == req.params.seed
    assert np.array_equal(sheets[0][0], sheets[1][0]) and sheets[0][1] == sheets[1][1]
    other = PLAN["cast"].build(parts, 1).model_copy(update={"width": 160, "height": 96})
    DiffusersPortrait(_opts(models)).portrait(other, StageContext(out_dir=tmp_path))
    assert not np.array_equal(cv2.imread(str(tmp_path / "portrait.png")), sheets[0][0])


def test_a_bad_adapter_path_is_a_clear_error_before_any_work(models: tuple[Path, Path], tmp_path: Path) -> None:
    pipeline, weight = models
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    from safetensors.torch import save_file

    save_file({"image_proj.proj.weight": torch.zeros(4, 4)}, str(tmp_path / "half.safetensors"))
    (tmp_path / "lonely.safetensors").write_bytes(weight.read_bytes())  # no image_encoder/ beside it
    cases = [(tmp_path / "missing.safetensors", "does not exist"), (bad / "corrupt.safetensors", "not a readable safetensors"),
             (weight.parent.parent, "0 weight files"), (tmp_path / "half.safetensors", "no ip_adapter"),
             (tmp_path / "lonely.safetensors", "not a CLIP image encoder folder")]
    for path, words in cases:
        with pytest.raises(InvalidInput, match=words):
            Diffusers(_opts(models, ip_adapter=str(path)))
    # through a film: refused when it is set up, before the story or any other stage runs
    events: list[Any] = []
    store = LocalStore(tmp_path / "store")
    opts = FilmOptions(resolution="360p", providers={"picture": "diffusers/local"},
                       provider_options={"picture": _opts(models, ip_adapter=str(bad / "corrupt.safetensors"))})
    with pytest.raises(InvalidInput, match="corrupt.safetensors"):
        make_film(StoryRequest(prompt="a lighthouse keeper", genre="drama", num_scenes=2), opts=opts, store=store,
                  on_event=events.append, out_dir=tmp_path / "film")
    assert events == [] and not list((tmp_path / "store").rglob("result.json")) and not (tmp_path / "film").exists()


def test_an_adapter_for_another_model_is_refused_by_name(models: tuple[Path, Path], tmp_path: Path) -> None:
    other = build_ip_adapter(models[0], tmp_path / "sdxl-like", cross_dim=24)  # cross-attention widths that do not fit
    prov = Diffusers(_opts(models, ip_adapter=str(other)))
    with pytest.raises(InvalidInput, match="does not fit this pipeline"):
        prov.pipeline()
