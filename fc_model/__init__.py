"""fc_model: the structured feature model of Zhang et al. (ICML 2024), a two-layer network
with a fixed second layer, and a batched replicate simulator."""

from fc_model.config import SGD, Activation, FeatureModel, Network, Schedule, Sphere, Uniform
from fc_model.data import Sample, dictionary, generator, sample_latent, to_input
from fc_model.network import autograd_gradient, closed_form_gradient, hinge_gradient, second_layer
from fc_model.simulate import Onset, TheoryModel, Trajectory, resolve_device, simulate

__all__ = [
    "SGD", "Activation", "FeatureModel", "Network", "Onset", "Sample", "Schedule", "Sphere",
    "TheoryModel", "Trajectory", "Uniform", "autograd_gradient", "closed_form_gradient",
    "dictionary", "generator", "hinge_gradient", "resolve_device", "sample_latent",
    "second_layer", "simulate", "to_input",
]
