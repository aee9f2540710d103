"""The built-in composer's parts: harmony, arrangement, patterns, the SoundFont synth."""
