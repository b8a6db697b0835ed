"""Layers and the helpers that walk layer graphs (Lasagne's ``lasagne.layers``)."""

from .base import *  # noqa: F401,F403
from .input import *  # noqa: F401,F403
from .helper import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .noise import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .merge import *  # noqa: F401,F403
from .cells import *  # noqa: F401,F403
from .recurrence import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .rectifiers import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
