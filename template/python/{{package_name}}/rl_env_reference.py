"""Cart-pole in pure Python: the reference the Rust environment must equal.

Plain Python floats are IEEE doubles, like Rust's ``f64``, and the operations
run in the same order as ``src/rl_env.rs``, so both give the same state to the
last bit wherever they use the same ``sin`` and ``cos``. The tests compare
them step for step; the benchmark times the Rust environments against this.
"""

from __future__ import annotations

import math

__all__ = ["ReferenceCartPole", "SplitMix64"]

MASK64 = (1 << 64) - 1


class SplitMix64:
    """The seeded generator the Rust environment uses (SplitMix64)."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next_u64(self) -> int:
        """The next 64-bit output."""
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self, low: float, high: float) -> float:
        """A float in ``[low, high)`` from the top 53 bits of the next output."""
        return low + (high - low) * ((self.next_u64() >> 11) * 2.0**-53)


class ReferenceCartPole:
    """The classic cart-pole, written from its equations; operations in the
    same order as src/rl_env.rs, so results agree to the last bit wherever
    both use the same sin and cos."""

    GRAVITY, MASS_CART, MASS_POLE, HALF_LENGTH = 9.8, 1.0, 0.1, 0.5
    FORCE_MAG, TAU, X_THRESHOLD = 10.0, 0.02, 2.4
    THETA_THRESHOLD = 12.0 * 2.0 * math.pi / 360.0
    TOTAL_MASS = MASS_CART + MASS_POLE
    POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH

    def __init__(self) -> None:
        self.rng = SplitMix64(0)
        self.state = [0.0] * 4
        self.steps = 0
        self.done = False

    def reset(self, seed: int | None = None) -> list[float]:
        """Start an episode (reseeding first when ``seed`` is given); returns the state."""
        if seed is not None:
            self.rng = SplitMix64(seed)
        self.state = [self.rng.uniform(-0.05, 0.05) for _ in range(4)]
        self.steps, self.done = 0, False
        return list(self.state)

    def step(self, action: int) -> tuple[list[float], float, bool, bool]:
        """Push left (0) or right (1); returns ``(state, reward, terminated, truncated)``."""
        if self.done:
            raise RuntimeError("the episode is over: call reset() first")
        x, x_dot, theta, theta_dot = self.state
        force = self.FORCE_MAG if action == 1 else -self.FORCE_MAG
        sin, cos = math.sin(theta), math.cos(theta)
        temp = (force + self.POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / self.TOTAL_MASS
        theta_acc = (self.GRAVITY * sin - cos * temp) / (
            self.HALF_LENGTH * (4.0 / 3.0 - self.MASS_POLE * (cos * cos) / self.TOTAL_MASS)
        )
        x_acc = temp - self.POLE_MASS_LENGTH * theta_acc * cos / self.TOTAL_MASS
        self.state = [
            x + self.TAU * x_dot,
            x_dot + self.TAU * x_acc,
            theta + self.TAU * theta_dot,
            theta_dot + self.TAU * theta_acc,
        ]
        self.steps += 1
        x, theta = self.state[0], self.state[2]
        terminated = (
            x < -self.X_THRESHOLD
            or x > self.X_THRESHOLD
            or theta < -self.THETA_THRESHOLD
            or theta > self.THETA_THRESHOLD
        )
        truncated = self.steps >= 500
        self.done = terminated or truncated
        return list(self.state), 1.0, terminated, truncated
