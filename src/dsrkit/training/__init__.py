"""Training of dsrkit models: teacher-forcing schemes, the training loop and free-running generation."""

from .rollout import generate

__all__ = ["generate"]
