"""Tiny randomly initialised diffusion models, built and saved by the tests (nothing is
downloaded): a Stable Diffusion pipeline and an IP-Adapter for it, in the layouts
diffusers' ``from_pretrained`` and ``load_ip_adapter`` read (h94's ``models/`` layout:
``ip-adapter_*.safetensors`` beside ``image_encoder/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CROSS_DIM = 32  # the tiny UNet's cross-attention (text) width


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte-level alphabet (the same table the tokenizer uses)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def build_pipeline(root: Path) -> Path:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    # a character-level CLIP vocabulary: every byte symbol, alone and word-final, plus the specials
    chars = list(_bytes_to_unicode().values())
    vocab = {t: i for i, t in enumerate(["<|startoftext|>", "<|endoftext|>"] + chars + [c + "</w>" for c in chars])}
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"), pad_token="<|endoftext|>",
                              model_max_length=77)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        hidden_size=CROSS_DIM, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, vocab_size=len(vocab),
        max_position_embeddings=77))
    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=CROSS_DIM,
                                norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=4)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=DDIMScheduler(steps_offset=1, clip_sample=False), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    out = root / "pipeline"
    pipe.save_pretrained(out)
    return out


def _hidden_size(name: str, blocks: list[int]) -> int:
    """An attention processor's width, as diffusers' ``_convert_ip_adapter_attn_to_diffusers`` reads it."""
    if name.startswith("mid_block"):
        return blocks[-1]
    if name.startswith("up_blocks"):
        return list(reversed(blocks))[int(name[len("up_blocks.")])]
    return blocks[int(name[len("down_blocks.")])]


def build_ip_adapter(pipeline: Path, root: Path, *, cross_dim: int = CROSS_DIM, seed: int = 1) -> Path:
    """An IP-Adapter for the tiny UNet (``image_proj.*`` for the plain IP-Adapter's 4 image
    tokens, ``ip_adapter.<n>.to_k_ip/to_v_ip`` for every cross-attention, numbered 1, 3, 5...
    as h94's files are) and a tiny CLIP image encoder beside it. Returns the weight file."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    models = root / "models"
    models.mkdir(parents=True)
    torch.manual_seed(seed)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, image_size=32, patch_size=8,
        projection_dim=16))
    encoder.save_pretrained(models / "image_encoder")
    unet = UNet2DConditionModel.from_pretrained(pipeline / "unet")
    blocks = list(unet.config.block_out_channels)
    tensors: dict[str, Any] = {
        "image_proj.proj.weight": torch.randn(cross_dim * 4, 16) * 0.5,
        "image_proj.proj.bias": torch.zeros(cross_dim * 4),
        "image_proj.norm.weight": torch.ones(cross_dim),
        "image_proj.norm.bias": torch.zeros(cross_dim),
    }
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        hidden = _hidden_size(name, blocks)
        tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = torch.randn(hidden, cross_dim) * 0.5
        tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = torch.randn(hidden, cross_dim) * 0.5
        key_id += 2
    weight = models / "ip-adapter_tiny.safetensors"
    save_file(tensors, str(weight))
    return weight
