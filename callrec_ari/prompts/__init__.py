"""Consent announcements: texts or studio recordings in, telephone WAVs for Asterisk out.

``build_prompts`` speaks ``prompts/<lang>/<name>.txt`` with espeak-ng (or converts a studio
recording) into 8 kHz, 16-bit, mono WAVs; ``install_prompts`` copies them to
``<sounds>/<lang>/callrec/`` so Asterisk plays them as ``sound:callrec/<name>``.
"""

from callrec_ari.prompts.build import BuiltPrompt, PromptSource, build_prompts, speech_text
from callrec_ari.prompts.install import install_prompts, prompt_duration

__all__ = [
    "BuiltPrompt",
    "PromptSource",
    "build_prompts",
    "install_prompts",
    "prompt_duration",
    "speech_text",
]
