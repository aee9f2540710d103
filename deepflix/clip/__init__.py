"""The clip stage: image-to-video providers that turn a scene's picture into motion."""
