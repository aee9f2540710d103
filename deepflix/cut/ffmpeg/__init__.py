"""The built-in cut and segment encoders' parts: frames, motion, cards, captions, and the ffmpeg processes that encode them."""
