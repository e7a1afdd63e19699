"""Inference on average effects: the doubly robust AIPCW estimator of the ATE."""

from ._aipcw import AIPCW

__all__ = ["AIPCW"]
