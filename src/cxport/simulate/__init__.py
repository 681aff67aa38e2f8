"""`cxport simulate`: a deterministic, streaming simulator of a messaging operation."""

from cxport.simulate.options import SimOptions, SimSummary
from cxport.simulate.simulation import simulate

__all__ = ["SimOptions", "SimSummary", "simulate"]
