"""Settings from the environment and ``.env``.

The seed's names are kept where it has them (PORT, REDIS_URL, ANTHROPIC_API_KEY,
COMFYUI_URL, ELEVENLABS_API_KEY). The seed's FIREBASE_CONFIG gives way to
DATABASE_URL (the job truth) plus DEEPFLIX_STORAGE / S3_* (the artifacts): the
same code then runs on a laptop (SQLite, a folder) and in a fleet (PostgreSQL, S3).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "deepflix"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # the seed's
    port: int = Field(3006, description="HTTP port of `deepflix serve` (the seed's Queue Service port)")
    redis_url: str | None = Field(None, description="Redis for the job queue; unset = a private embedded Redis")
    anthropic_api_key: SecretStr | None = None
    comfyui_url: str = "http://localhost:8188"
    elevenlabs_api_key: SecretStr | None = None

    # remote providers
    anthropic_model: str = "claude-sonnet-4-5"
    anthropic_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_tts_model: str = "gpt-4o-mini-tts"
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    music_api_url: str | None = None
    replicate_api_token: SecretStr | None = None

    # the comfyui/workflow picture provider's defaults (a film's picture options override them)
    deepflix_comfyui_workflow: str = Field("txt2img_sd15", description="a shipped template or an API-format workflow file")
    deepflix_comfyui_checkpoint: str | None = Field(None, description="ckpt_name; unset = the workflow's")
    deepflix_comfyui_long_side: int = Field(768, ge=64, le=2048, description="generation size's long side")
    deepflix_comfyui_width: int | None = Field(None, description="generate at exactly this size (with _HEIGHT)")
    deepflix_comfyui_height: int | None = None
    deepflix_comfyui_steps: int | None = Field(None, description="pin the steps; unset = each film's")
    deepflix_comfyui_sampler: str | None = Field(None, description="pin the KSampler sampler_name; unset = each film's")
    deepflix_comfyui_scheduler: str | None = Field(None, description="KSampler scheduler; unset = the workflow's")
    deepflix_comfyui_cfg: float | None = Field(None, description="pin the cfg; unset = each film's cfg_scale")
    deepflix_comfyui_timeout_s: float = Field(600.0, gt=0, description="one picture's limit from when it starts running")
    deepflix_comfyui_queue_timeout_s: float = Field(3600.0, gt=0, description="the longest wait in ComfyUI's queue")
    deepflix_comfyui_portrait_workflow: str = Field("txt2img_sd15", description="the cast's text-to-image workflow")
    deepflix_comfyui_api_options: str = Field(
        "checkpoint,width,height,long_side,steps,sampler,scheduler,cfg,negative,reference,workflow,timeout_s",
        description="picture options a POST /api/movies caller may set (workflow: a shipped template only; "
                    "timeout_s: at most DEEPFLIX_COMFYUI_TIMEOUT_S)")

    # the comfyui/clip provider's defaults (image-to-video; a film's clip options override them)
    deepflix_comfyui_clip_workflow: str = Field(
        "wan22_ti2v_5b", description="wan22_ti2v_5b, wan22_i2v_14b_lightx2v, wan21_vace_1_3b, ltxv_i2v, or an API-format workflow file")
    deepflix_comfyui_clip_steps: int | None = Field(None, description="pin the sampling steps; unset = the workflow's")
    deepflix_comfyui_clip_max_frames: int | None = Field(None, description="longest clip in frames; unset = the model's")
    deepflix_comfyui_clip_timeout_s: float = Field(1800.0, gt=0, description="one clip's limit from when it starts running")
    deepflix_comfyui_clip_queue_timeout_s: float = Field(3600.0, gt=0, description="a clip's longest wait in the queue")
    # model file names (ComfyUI's models/ folders) of the bundled clip workflows
    deepflix_comfyui_clip_wan5b_model: str = "wan2.2_ti2v_5B_fp16.safetensors"  # diffusion_models/
    deepflix_comfyui_clip_wan5b_vae: str = "wan2.2_vae.safetensors"  # vae/
    deepflix_comfyui_clip_wan14b_high: str = "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"  # diffusion_models/
    deepflix_comfyui_clip_wan14b_low: str = "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"
    deepflix_comfyui_clip_wan14b_lora_high: str = "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors"  # loras/
    deepflix_comfyui_clip_wan14b_lora_low: str = "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors"
    deepflix_comfyui_clip_vace_model: str = "wan2.1_vace_1.3B_fp16.safetensors"  # diffusion_models/
    deepflix_comfyui_clip_wan21_vae: str = "wan_2.1_vae.safetensors"  # vae/
    deepflix_comfyui_clip_wan_text_encoder: str = "umt5_xxl_fp8_e4m3fn_scaled.safetensors"  # text_encoders/
    deepflix_comfyui_clip_ltxv_checkpoint: str = "ltx-video-2b-v0.9.5.safetensors"  # checkpoints/
    deepflix_comfyui_clip_ltxv_text_encoder: str = "t5xxl_fp16.safetensors"  # text_encoders/
    # the llamacpp/local story provider: a GGUF model run in process (cyllama, in the llm extra)
    deepflix_llamacpp_model: str | None = Field(None, description="path of the GGUF file llamacpp/local loads")
    deepflix_llamacpp_threads: int | None = Field(None, ge=1, le=512, description="its CPU threads; unset = all cores")
    # the diffusers/local provider's defaults (a film's picture options override them); local paths only
    deepflix_diffusers_model_path: str | None = Field(None, description="a diffusers pipeline folder (save_pretrained layout)")
    deepflix_diffusers_ip_adapter: str | None = Field(
        None, description="IP-Adapter weights (.safetensors/.bin, or a folder holding one): scenes take the cast's portraits")
    deepflix_diffusers_image_encoder: str | None = Field(
        None, description="the adapter's CLIP image encoder folder; unset = image_encoder/ beside the weights")
    deepflix_diffusers_ip_adapter_scale: float = Field(0.6, ge=0, le=2, description="how strongly the portraits steer")

    # which provider each stage uses (names from `deepflix providers`); unset = the plan's default.
    # A stage without a field here (a plugin's) reads DEEPFLIX_<STAGE>_PROVIDER from the environment.
    deepflix_story_provider: str | None = None
    deepflix_picture_provider: str | None = None
    deepflix_speech_provider: str | None = None
    deepflix_score_provider: str | None = None
    deepflix_clip_provider: str | None = None  # image-to-video, for the scenes made as clips
    deepflix_segment_provider: str | None = None
    deepflix_cut_provider: str | None = None

    # where things live
    deepflix_data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = Field(None, description="SQLAlchemy URL; unset = SQLite in the data dir")
    deepflix_storage: str = Field("local", description="local | s3")
    s3_endpoint_url: str | None = None
    s3_bucket: str = "deepflix"
    s3_region: str = "us-east-1"
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None

    # running
    deepflix_workers: int = Field(2, ge=1, le=64, description="parallel scene tasks in process")
    deepflix_retries: int = Field(3, ge=0, le=10, description="attempts after the first for transient faults")
    deepflix_loudness_lufs: float = Field(-16.0, ge=-30, le=-8)
    deepflix_env: str = Field("development", description="development | production")
    deepflix_secret_key: SecretStr = SecretStr("changethis")

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        if self.deepflix_secret_key.get_secret_value() == "changethis":
            kept = self.deepflix_data_dir / "secret_key"  # made by `serve` off loopback (security/secret.py)
            if kept.is_file():
                self.deepflix_secret_key = SecretStr(kept.read_text().strip())
        if self.deepflix_env == "production" and self.deepflix_secret_key.get_secret_value() == "changethis":
            raise ValueError("DEEPFLIX_SECRET_KEY is 'changethis': set a real secret in production")
        return self

    def provider_for(self, stage: str) -> str | None:
        """The provider these settings name for a stage; None = the plan's default
        (plugins.configured_provider resolves it)."""
        import os

        return getattr(self, f"deepflix_{stage}_provider", None) or os.environ.get(f"DEEPFLIX_{stage.upper()}_PROVIDER")

    @property
    def store_dir(self) -> Path:
        return self.deepflix_data_dir / "store"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.deepflix_data_dir / 'deepflix.db'}"


settings = Settings()


def reload_settings() -> Settings:
    """Re-read the environment (tests, and the CLI after it sets overrides)."""
    global settings
    settings = Settings()
    return settings
