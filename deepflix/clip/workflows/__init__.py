"""API-format ComfyUI image-to-video workflows shipped with DeepFlix (loaded by file stem)."""
