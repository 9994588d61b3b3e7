"""Cart-pole in Rust with the Gymnasium API.

``CartPoleEnv`` is one environment (``reset`` and ``step`` as in Gymnasium);
``CartPoleVectorEnv`` steps N of them in one call on NumPy arrays, with the
GIL released. The dynamics, the seeded generator and the episode bookkeeping
are in Rust (``src/rl_env.rs``); this module adds what Gymnasium users expect:
spaces, ``metadata``, ``render_mode``, ``close``.

Gymnasium is optional. When it is installed (importing this module imports
it), the classes subclass ``gymnasium.Env`` and ``gymnasium.vector.VectorEnv``
and have ``action_space`` and ``observation_space``; without it they behave
the same, minus the spaces.

``CartPole`` and ``CartPoleVector`` are the compiled classes underneath: the
same ``reset``/``step``, without Gymnasium's base classes.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, SupportsIndex

import numpy as np
import numpy.typing as npt

from ._core import CartPole, CartPoleVector

try:
    import gymnasium as _gym
    from gymnasium.vector import AutoresetMode as _AutoresetMode
    from gymnasium.vector.utils import batch_space as _batch_space
except ImportError:  # optional: everything but the spaces works without it
    _HAVE_GYMNASIUM = False
else:
    _HAVE_GYMNASIUM = True

__all__ = ["CartPole", "CartPoleEnv", "CartPoleVector", "CartPoleVectorEnv"]

_F32Array = npt.NDArray[np.float32]
_SPACES = ("action_space", "observation_space", "single_action_space", "single_observation_space")
_F32_MAX = float(np.finfo(np.float32).max)
# Twice the termination bounds, so that the observation that ends an episode
# is still inside the space; velocities are unbounded (float32's largest value
# rather than inf, which Gymnasium's checker warns about).
_OBS_HIGH = np.array(
    [2 * CartPole.X_THRESHOLD, _F32_MAX, 2 * CartPole.THETA_THRESHOLD, _F32_MAX], np.float32
)

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

    # mypy checks the classes against Gymnasium's (Any when it is not installed;
    # `nox -s lint` type-checks both ways).
    _EnvBase: TypeAlias = _gym.Env[_F32Array, SupportsIndex]
    _VectorEnvBase: TypeAlias = _gym.vector.VectorEnv[
        _F32Array, npt.NDArray[np.int64], npt.NDArray[Any]
    ]
elif _HAVE_GYMNASIUM:
    _EnvBase = _gym.Env
    _VectorEnvBase = _gym.vector.VectorEnv
else:
    _EnvBase = _VectorEnvBase = object


def _check_render_mode(render_mode: str | None) -> None:
    if render_mode is not None:
        raise ValueError(
            f"render_mode must be None: this environment does not render, got {render_mode!r}"
        )


def _check_options(options: dict[str, Any] | None) -> None:
    if options:
        raise ValueError(
            f"options must be None or empty: there are no reset options, got {options!r}"
        )


def _seed_for_gymnasium(seed: SupportsIndex | None) -> int | None:
    # Rust has accepted the seed, so it is None or an integer (maybe a NumPy one).
    return None if seed is None else operator.index(seed)


class _SpacesNeedGymnasium:
    """Explain a missing space instead of a bare AttributeError."""

    def __getattr__(self, name: str) -> Any:
        if name in _SPACES:
            raise AttributeError(f"{name} needs Gymnasium: pip install gymnasium")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class CartPoleEnv(_SpacesNeedGymnasium, _EnvBase):
    """The classic cart-pole: push the cart left (0) or right (1) to keep the
    pole upright. Reward 1 per step; ``terminated`` when the pole leans more
    than 12 degrees or the cart leaves [-2.4, 2.4]; ``truncated`` after 500
    steps. Observations: float32 ``[x, x_dot, theta, theta_dot]``.

    ``reset(seed=s)`` makes the episode reproducible (the initial state comes
    from a SplitMix64 generator in Rust). Gymnasium's ``np_random`` is seeded
    with the same seed, for the agent's own use; the dynamics do not use it.
    Stepping before ``reset`` or after the episode ended raises ValueError.
    """

    # Not a ClassVar: Gymnasium declares it as an attribute that instances may override.
    metadata: dict[str, Any] = {"render_modes": [], "render_fps": 50}  # noqa: RUF012

    def __init__(self, render_mode: str | None = None) -> None:
        _check_render_mode(render_mode)
        self.render_mode = render_mode
        self._env = CartPole()
        if _HAVE_GYMNASIUM:
            self.action_space = _gym.spaces.Discrete(2)
            self.observation_space = _gym.spaces.Box(-_OBS_HIGH, _OBS_HIGH, dtype=np.float32)

    def reset(
        self, *, seed: SupportsIndex | None = None, options: dict[str, Any] | None = None
    ) -> tuple[_F32Array, dict[str, Any]]:
        """Start a new episode and return ``(observation, info)``.

        ``seed`` (an int in [0, 2**64)) makes the episode reproducible; None
        continues the environment's own random stream. ``options`` must be
        None or empty.
        """
        _check_options(options)
        result = self._env.reset(seed)
        if _HAVE_GYMNASIUM:
            super().reset(seed=_seed_for_gymnasium(seed))
        return result

    def step(self, action: SupportsIndex) -> tuple[_F32Array, float, bool, bool, dict[str, Any]]:
        """Push left (0) or right (1); return ``(obs, reward, terminated, truncated, info)``."""
        return self._env.step(action)

    @property
    def state(self) -> npt.NDArray[np.float64]:
        """The state in full (float64) precision; observations round it to float32."""
        return self._env.state

    def render(self) -> None:
        """Nothing to render (``metadata["render_modes"]`` is empty)."""

    def close(self) -> None:
        """Nothing to release; safe to call more than once."""


class CartPoleVectorEnv(_SpacesNeedGymnasium, _VectorEnvBase):
    """``num_envs`` cart-poles stepped in one call with the GIL released.

    ``step(actions)`` takes one action (0 or 1) per environment, as an integer
    array or list of shape ``(num_envs,)``, and returns float32 observations
    ``(num_envs, 4)``, float64 rewards, and bool ``terminated`` and
    ``truncated`` arrays, plus an empty info dict.

    Autoreset is "next-step", Gymnasium 1.x's default: the step that ends an
    episode returns its last observation with ``terminated`` or ``truncated``
    set; on the following step that environment ignores its action, starts a
    new episode and returns its first observation with reward 0 and both flags
    False. ``reset(seed=s)`` seeds environment ``i`` with ``s + i``, so it
    replays ``CartPoleEnv().reset(seed=s + i)``.
    """

    # Not a ClassVar: Gymnasium declares it as an attribute that instances may override.
    metadata: dict[str, Any] = {  # noqa: RUF012
        "render_modes": [],
        "autoreset_mode": _AutoresetMode.NEXT_STEP if _HAVE_GYMNASIUM else "NextStep",
    }

    def __init__(self, num_envs: int, render_mode: str | None = None) -> None:
        _check_render_mode(render_mode)
        self.render_mode = render_mode
        self._envs = CartPoleVector(num_envs)
        self.num_envs = self._envs.num_envs
        if _HAVE_GYMNASIUM:
            self.single_action_space = _gym.spaces.Discrete(2)
            self.single_observation_space = _gym.spaces.Box(
                -_OBS_HIGH, _OBS_HIGH, dtype=np.float32
            )
            self.action_space = _gym.spaces.MultiDiscrete(np.full(self.num_envs, 2))
            self.observation_space = _batch_space(self.single_observation_space, self.num_envs)

    def reset(
        self, *, seed: SupportsIndex | None = None, options: dict[str, Any] | None = None
    ) -> tuple[_F32Array, dict[str, Any]]:
        """Reset every environment and return ``(observations, info)``.

        Environment ``i`` is seeded with ``seed + i``; ``options`` must be None
        or empty.
        """
        _check_options(options)
        result = self._envs.reset(seed)
        if _HAVE_GYMNASIUM:
            super().reset(seed=_seed_for_gymnasium(seed))
        return result

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[
        _F32Array,
        npt.NDArray[np.float64],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        dict[str, Any],
    ]:
        """Step every environment with its action (0 or 1), an array of shape ``(num_envs,)``.

        ``actions`` is an int64 array (read in place) or anything NumPy turns
        into a 1-D array of integers or bools (a list, another integer dtype:
        converted). Other types raise TypeError, another shape or an action
        other than 0 or 1 ValueError; no environment moves then.

        Returns ``(observations, rewards, terminated, truncated, info)``.
        """
        return self._envs.step(actions)

    @property
    def states(self) -> npt.NDArray[np.float64]:
        """Every environment's state in full (float64) precision, ``(num_envs, 4)``."""
        return self._envs.states

    def render(self) -> None:
        """Nothing to render (``metadata["render_modes"]`` is empty)."""

    def close(self, **kwargs: Any) -> None:
        """Nothing to release; safe to call more than once."""
        self.closed = True
