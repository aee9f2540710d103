"""API-format ComfyUI workflow templates shipped with DeepFlix (loaded by file stem)."""
