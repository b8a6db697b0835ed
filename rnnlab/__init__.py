"""rnnlab: recurrent neural networks the Theano + Lasagne way, on PyTensor."""

__version__ = "0.1.0"
