"""mnist-kit: a tiny CNN on MNIST in four iterations, for the classroom."""

__version__ = "0.1.0"
