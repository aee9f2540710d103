"""Settings from the environment and ``.env``.

The seed's names are kept where it has them (PORT, REDIS_URL, ANTHROPIC_API_KEY,
COMFYUI_URL, ELEVENLABS_API_KEY). The seed's FIREBASE_CONFIG gives way to
DATABASE_URL (the job truth) plus DEEPFLIX_STORAGE / S3_* (the artifacts): the
same code then runs on a laptop (SQLite, a folder) and in a fleet (PostgreSQL, S3).

One settings object, ``settings``, with two sections read from the same
environment: ``settings.gateway`` (the API's limits and quotas) and
``settings.jobs`` (the broker, retries and workers). Every variable keeps its
name: a section is its own BaseSettings, so its fields read their variables as
before. ``reload_settings()`` re-reads all of it (tests, the CLI after it sets
overrides); nothing else caches settings.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "deepflix"


class GatewaySettings(BaseSettings):
    """The gateway's section (was api.settings.ApiSettings): limits and quotas per API key."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # rate limit per API key: a token bucket refilled at rate_per_minute, holding at most rate_burst
    deepflix_rate_per_minute: float = Field(600.0, gt=0, description="requests per minute per API key")
    deepflix_rate_burst: int = Field(120, ge=1, description="requests a key may make at once")
    # unauthenticated callers with a bad key, per client address (slows key guessing)
    deepflix_auth_failures_per_minute: float = Field(60.0, gt=0)
    deepflix_auth_failures_burst: int = Field(30, ge=1)
    # quotas per user (an API key row may override them)
    deepflix_max_concurrent_jobs: int = Field(3, ge=1, description="unfinished films per user")
    deepflix_films_per_day: int = Field(50, ge=1, description="films a user may start in 24 hours")
    deepflix_max_prompt_chars: int = Field(2000, ge=1, le=2000)
    # server-sent events: a stream closes after this long; EventSource reconnects with Last-Event-ID
    deepflix_sse_max_seconds: float = Field(600.0, gt=0)
    deepflix_sse_poll_seconds: float = Field(0.5, gt=0)
    # a verified key is remembered this long (saves a database read per request; revocation waits this long
    # in other processes, and is immediate in the one that revoked)
    deepflix_key_cache_seconds: float = Field(10.0, ge=0)
    # where each request comes from, for the audit log: trust X-Forwarded-For only behind a proxy
    deepflix_trust_forwarded: bool = False
    # mount the seed's per-stage endpoints in the gateway
    deepflix_mount_stage_services: bool = True
    # security limits (README "Security limits"): bodies refused with 413 before they are read
    deepflix_max_body_bytes: int = Field(1_048_576, ge=1024, description="largest request body (JSON and forms)")
    deepflix_max_upload_bytes: int = Field(20_971_520, ge=1024, description="largest multipart/binary upload body")
    # open progress streams per API key in this gateway (429 beyond)
    deepflix_sse_max_streams_per_key: int = Field(4, ge=1)
    # /metrics: answered from a cache this long; a bearer token when set
    deepflix_metrics_cache_seconds: float = Field(5.0, ge=0)
    deepflix_metrics_token: SecretStr | None = None
    # the seed's stage endpoints run on small pools of their own (api/stage_pool.py)
    deepflix_stage_workers_voice: int = Field(2, ge=1, le=64, description="threads for /generate-voice")
    deepflix_stage_workers_images: int = Field(1, ge=1, le=64, description="threads for /generateImages")
    deepflix_stage_workers_story: int = Field(2, ge=1, le=64, description="threads for /generate-cinematic-story")
    deepflix_stage_queue: int = Field(8, ge=0, le=1000, description="calls per kind that may wait for a thread")
    deepflix_stage_inflight_per_key: int = Field(2, ge=1, le=64, description="stage calls in flight per key and kind")
    deepflix_voice_max_chars: int = Field(2000, ge=1, le=5000, description="longest text /generate-voice speaks")
    # which providers users may pick per stage (security/allowlist.py): "story=builtin/planner,openai/chat;picture=*"
    deepflix_user_providers: str = Field("", description="providers open to user keys per stage")
    deepflix_voice_chars_per_request: int = Field(100, ge=1, description="a voice call costs one request per this many characters")


class JobSettings(BaseSettings):
    """The job system's section (was jobs.settings.JobSettings). Recovery of a killed worker's message
    takes heartbeat_timeout plus at most maintenance_interval plus about a second: 30-33 s with these
    defaults (bench/recovery.py; Dramatiq's own, a 60 s timeout and maintenance on 0.1% of commands, took 679 s)."""

    model_config = SettingsConfigDict(env_prefix="DEEPFLIX_", env_file=".env", extra="ignore")

    # broker
    redis_namespace: str = Field("deepflix", description="prefix of every Redis key the job system writes")
    heartbeat_timeout: float = Field(30.0, gt=0, description="s without a heartbeat before a worker is dead")
    maintenance_chance: int = Field(10_000, ge=0, le=1_000_000, description="per million Redis commands")
    dead_message_ttl: float = Field(14 * 86400.0, gt=0, description="s dead letters are kept")
    maintenance_interval: float = Field(2.0, gt=0, description="s between forced queue maintenance passes")
    reconcile_interval: float = Field(10.0, gt=0, description="s between reconciler passes")
    reconcile_grace: float = Field(15.0, ge=0, description="s a queued stage may wait for its message")

    # retries and limits
    max_attempts: int = Field(4, ge=1, le=50, description="tries of one stage (a killed worker counts)")
    min_backoff: float = Field(2.0, gt=0, description="s before the first retry of a failed stage")
    max_backoff: float = Field(120.0, gt=0)
    owner_inflight: int = Field(8, ge=1, description="stages one owner may have queued or running per queue kind")
    cancel_poll: float = Field(1.0, gt=0, description="s between a running stage's checks that its film still wants it")

    # webhooks (security/netguard.py): let them reach loopback and private addresses (a receiver on your network)
    webhook_allow_private: bool = False

    # workers
    worker_threads: int = Field(2, ge=1, le=64)
    worker_processes: int = Field(1, ge=1, le=64)
    plugins: str = Field("", description="extra provider modules (comma-separated) worker processes register")
    worker_max_rss_mb: int = Field(
        768, ge=0, description="MB a worker process may reach: once what it holds after a stage plus the most "
                             "a stage of it has needed on top would pass it, a fresh one takes over (0: never)")


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
    deepflix_encoder_threads: int | None = Field(
        None, ge=1, le=64, description="threads of each software video encode (x264's -threads); unset = the encoder's own")
    deepflix_env: str = Field("development", description="development | production")
    deepflix_secret_key: SecretStr = SecretStr("changethis")

    # the sections: private attributes, not fields, so no variable named GATEWAY or JOBS is ever parsed
    _gateway: GatewaySettings = PrivateAttr(default_factory=lambda: GatewaySettings())
    _jobs: JobSettings = PrivateAttr(default_factory=lambda: JobSettings())

    @property
    def gateway(self) -> GatewaySettings:
        return self._gateway

    @property
    def jobs(self) -> JobSettings:
        return self._jobs

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
