"""Talking to a ComfyUI server: what every ComfyUI provider (pictures, portraits, clips) shares.

``server.ComfyServer`` is the HTTP/WebSocket client (``/object_info`` checks, ``/upload/image``,
``/prompt``, ``/view``); ``prompt.PromptRun`` follows one prompt to its end and cancels what it
abandons; ``workflows`` loads API-format workflow files and finds nodes by type and title."""
