//! A reinforcement-learning environment in Rust: the classic cart-pole.
//!
//! A complete environment, with what training code relies on:
//!
//! - the classic cart-pole dynamics (Barto, Sutton and Anderson, 1983), in
//!   `f64` and integrated with Euler steps as the classic implementation does;
//!   observations are the state rounded to `f32`;
//! - `terminated` (the pole fell or the cart left the track) kept apart from
//!   `truncated` (the time limit), which a single `done` flag would conflate;
//! - a seeded generator ([`SplitMix64`]) for the initial state, so an episode
//!   is reproducible from its seed on every platform;
//! - [`CartPoleVec`], N environments stepped in one call (on rayon's pool when
//!   N is large), resetting each one on the step after its episode ends.

use std::collections::hash_map::RandomState;
use std::f64::consts::PI;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use ndarray::{Array2, ArrayView1};
use rayon::prelude::*;

use crate::{Error, Result, alloc, pool};

/// Gravity, in m/s².
pub const GRAVITY: f64 = 9.8;
/// Mass of the cart, in kg.
pub const MASS_CART: f64 = 1.0;
/// Mass of the pole, in kg.
pub const MASS_POLE: f64 = 0.1;
/// Half the pole's length, in m (the classic code calls it `length`).
pub const HALF_LENGTH: f64 = 0.5;
/// Magnitude of the force an action applies to the cart, in N.
pub const FORCE_MAG: f64 = 10.0;
/// Seconds between two steps.
pub const TAU: f64 = 0.02;
/// The episode terminates when the cart is further than this from the centre, in m.
pub const X_THRESHOLD: f64 = 2.4;
/// The episode terminates when the pole leans more than this (12 degrees), in radians.
pub const THETA_THRESHOLD: f64 = 12.0 * 2.0 * PI / 360.0;
/// The episode is truncated after this many steps.
pub const MAX_EPISODE_STEPS: u32 = 500;
/// Every component of the initial state is drawn uniformly from
/// `[-INIT_BOUND, INIT_BOUND)`.
pub const INIT_BOUND: f64 = 0.05;

const TOTAL_MASS: f64 = MASS_CART + MASS_POLE;
const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_LENGTH;

/// SplitMix64 (Steele, Lea and Flood, 2014; the constants of Vigna's public
/// domain version): a 64-bit state advanced by a fixed odd increment and
/// scrambled by two multiply-xorshift rounds. Small, fast, passes BigCrush,
/// and every seed (0 included) gives a full-period stream. Not for cryptography.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator seeded from the operating system's randomness and the clock.
    pub fn from_entropy() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // std's RandomState carries random keys from the operating system.
        Self::new(RandomState::new().hash_one(nanos))
    }

    /// The generator's whole state: `SplitMix64::new(rng.state())` continues
    /// the same stream (for saving and restoring an environment).
    pub fn state(&self) -> u64 {
        self.state
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`: the top 53 bits, scaled by 2⁻⁵³ (exact in `f64`).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[low, high)`, as `low + (high - low) * next_f64()`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }
}

/// Push the cart left or right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Left = 0,
    Right = 1,
}

impl TryFrom<i64> for Action {
    type Error = Error;

    fn try_from(value: i64) -> Result<Self> {
        match value {
            0 => Ok(Action::Left),
            1 => Ok(Action::Right),
            _ => Err(Error::Invalid(format!(
                "action must be 0 (push left) or 1 (push right), got {value}"
            ))),
        }
    }
}

/// What one step returns (the Gymnasium API's tuple, without `info`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// The new state, rounded to `f32`.
    pub observation: [f32; 4],
    pub reward: f64,
    /// The pole fell or the cart left the track.
    pub terminated: bool,
    /// The episode reached [`MAX_EPISODE_STEPS`].
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NeedsReset,
    Running,
    Ended { terminated: bool },
}

/// Everything that decides a [`CartPole`]'s future, as plain numbers: what
/// pickling saves, so that a restored environment continues bit for bit (the
/// same observations, the same random stream).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// `[x, x_dot, theta, theta_dot]`.
    pub state: [f64; 4],
    /// The generator's state ([`SplitMix64::state`]).
    pub rng: u64,
    /// Steps since the last reset.
    pub steps: u32,
    /// One of [`Snapshot::NEEDS_RESET`], [`Snapshot::RUNNING`],
    /// [`Snapshot::TERMINATED`], [`Snapshot::TRUNCATED`].
    pub phase: u8,
}

impl Snapshot {
    /// Not reset yet: `step` is an error.
    pub const NEEDS_RESET: u8 = 0;
    /// In an episode.
    pub const RUNNING: u8 = 1;
    /// The episode ended because the pole fell or the cart left the track.
    pub const TERMINATED: u8 = 2;
    /// The episode ended at the time limit.
    pub const TRUNCATED: u8 = 3;
}

/// One cart-pole environment: state `[x, x_dot, theta, theta_dot]` (cart
/// position and velocity, pole angle and angular velocity).
#[derive(Debug, Clone)]
pub struct CartPole {
    state: [f64; 4],
    rng: SplitMix64,
    steps: u32,
    phase: Phase,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// A new environment; call [`reset`](Self::reset) before stepping it.
    pub fn new() -> Self {
        Self {
            state: [0.0; 4],
            rng: SplitMix64::from_entropy(),
            steps: 0,
            phase: Phase::NeedsReset,
        }
    }

    /// Start an episode. `Some(seed)` restarts the generator from `seed`;
    /// `None` continues its stream (seeded from entropy if it never was).
    pub fn reset(&mut self, seed: Option<u64>) -> [f32; 4] {
        if let Some(seed) = seed {
            self.rng = SplitMix64::new(seed);
        }
        for value in &mut self.state {
            *value = self.rng.uniform(-INIT_BOUND, INIT_BOUND);
        }
        self.steps = 0;
        self.phase = Phase::Running;
        self.observation()
    }

    /// Advance one time step. Stepping before the first `reset` or after the
    /// episode ended is an error: the state would be meaningless.
    pub fn step(&mut self, action: Action) -> Result<Transition> {
        match self.phase {
            Phase::Running => {}
            Phase::NeedsReset => {
                return Err(Error::Invalid(
                    "step() called before reset(); reset the environment first".into(),
                ));
            }
            Phase::Ended { terminated } => {
                let how = if terminated {
                    "terminated"
                } else {
                    "truncated after the time limit"
                };
                return Err(Error::Invalid(format!(
                    "the episode has ended ({how}); call reset() before step()"
                )));
            }
        }
        self.state = dynamics(self.state, action);
        self.steps += 1;
        let [x, _, theta, _] = self.state;
        let terminated = !(-X_THRESHOLD..=X_THRESHOLD).contains(&x)
            || !(-THETA_THRESHOLD..=THETA_THRESHOLD).contains(&theta);
        let truncated = self.steps >= MAX_EPISODE_STEPS;
        if terminated || truncated {
            self.phase = Phase::Ended { terminated };
        }
        Ok(Transition {
            observation: self.observation(),
            reward: 1.0,
            terminated,
            truncated,
        })
    }

    /// The state in full `f64` precision.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// The state as the observation the agent sees.
    pub fn observation(&self) -> [f32; 4] {
        self.state.map(|v| v as f32)
    }

    /// Steps taken since the last reset.
    pub fn elapsed_steps(&self) -> u32 {
        self.steps
    }

    /// The episode terminated or was truncated and needs a reset.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Ended { .. })
    }

    /// Everything [`restore`](Self::restore) needs to rebuild this environment.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            rng: self.rng.state(),
            steps: self.steps,
            phase: match self.phase {
                Phase::NeedsReset => Snapshot::NEEDS_RESET,
                Phase::Running => Snapshot::RUNNING,
                Phase::Ended { terminated: true } => Snapshot::TERMINATED,
                Phase::Ended { terminated: false } => Snapshot::TRUNCATED,
            },
        }
    }

    /// The environment a [`snapshot`](Self::snapshot) was taken of, which
    /// continues exactly as the original would have. A snapshot that no
    /// environment can be in (an unknown phase, more steps than the time
    /// limit, a running episode at the limit, a state that is not finite) is
    /// [`Error::Invalid`].
    pub fn restore(snapshot: Snapshot) -> Result<Self> {
        let Snapshot {
            state,
            rng,
            steps,
            phase,
        } = snapshot;
        let phase = match phase {
            Snapshot::NEEDS_RESET => Phase::NeedsReset,
            Snapshot::RUNNING => Phase::Running,
            Snapshot::TERMINATED => Phase::Ended { terminated: true },
            Snapshot::TRUNCATED => Phase::Ended { terminated: false },
            _ => {
                return Err(Error::Invalid(format!(
                    "unknown cart-pole phase {phase} (expected 0 to 3)"
                )));
            }
        };
        let limit = match phase {
            Phase::Running => MAX_EPISODE_STEPS - 1,
            _ => MAX_EPISODE_STEPS,
        };
        if steps > limit {
            return Err(Error::Invalid(format!(
                "a cart-pole in phase {} cannot have taken {steps} steps (at most {limit})",
                snapshot.phase
            )));
        }
        if !state.iter().all(|v| v.is_finite()) {
            return Err(Error::NotFinite("state"));
        }
        Ok(Self {
            state,
            rng: SplitMix64::new(rng),
            steps,
            phase,
        })
    }

    /// One step of a vector environment ("next-step" autoreset): an
    /// environment whose episode ended on the previous step is reset instead,
    /// ignoring `action`, with reward 0 and neither flag set.
    fn autoreset_step(&mut self, action: Action) -> Result<Transition> {
        if self.is_done() {
            return Ok(Transition {
                observation: self.reset(None),
                reward: 0.0,
                terminated: false,
                truncated: false,
            });
        }
        self.step(action)
    }
}

/// The cart-pole equations of motion, one explicit Euler step of `TAU` seconds.
/// The operations are grouped as in Gymnasium's `CartPole-v1`, so that from the
/// same state both compute the same next state (given the same `sin`/`cos`).
fn dynamics(state: [f64; 4], action: Action) -> [f64; 4] {
    let [x, x_dot, theta, theta_dot] = state;
    let force = match action {
        Action::Left => -FORCE_MAG,
        Action::Right => FORCE_MAG,
    };
    let (sin, cos) = (theta.sin(), theta.cos());
    let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
    let theta_acc = (GRAVITY * sin - cos * temp)
        / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * (cos * cos) / TOTAL_MASS));
    let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
    [
        x + TAU * x_dot,
        x_dot + TAU * x_acc,
        theta + TAU * theta_dot,
        theta_dot + TAU * theta_acc,
    ]
}

/// Where [`CartPoleVec::step`] writes its results, one entry per environment
/// (`obs` holds 4 values per environment, row after row).
#[derive(Debug)]
pub struct VecOutput<'a> {
    pub obs: &'a mut [f32],
    pub rewards: &'a mut [f64],
    pub terminated: &'a mut [bool],
    pub truncated: &'a mut [bool],
}

/// Environments per rayon task. One cart-pole step costs 25-30 ns, and
/// handing work to rayon's pool costs microseconds: below a few thousand
/// environments one thread is faster (measured on 2 vCPUs).
const ENVS_PER_TASK: usize = 4096;

/// N independent cart-poles stepped together. Autoreset is "next-step" (the
/// default of Gymnasium 1.x vector environments): the step that ends an
/// episode returns its last observation with `terminated` or `truncated`
/// set; the following step resets that environment (its action is ignored)
/// and returns the first observation of the new episode with reward 0.
#[derive(Debug, Clone)]
pub struct CartPoleVec {
    envs: Vec<CartPole>,
    started: bool,
    actions: Vec<Action>,
}

impl CartPoleVec {
    pub fn new(num_envs: usize) -> Result<Self> {
        if num_envs == 0 {
            return Err(Error::Invalid("num_envs must be at least 1, got 0".into()));
        }
        let mut envs = alloc::try_with_capacity(num_envs, "environments")?;
        envs.resize_with(num_envs, CartPole::new);
        Ok(Self {
            envs,
            started: false,
            actions: alloc::try_with_capacity(num_envs, "actions")?,
        })
    }

    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Reset every environment. `Some(seed)` seeds environment `i` with
    /// `seed + i` (wrapping), as Gymnasium's vector environments do, so
    /// environment `i` replays a single [`CartPole`] reset with that seed.
    /// Returns the observations, shape `(num_envs, 4)`.
    pub fn reset(&mut self, seed: Option<u64>) -> Array2<f32> {
        self.started = true;
        let mut obs = Array2::zeros((self.envs.len(), 4));
        for ((i, env), mut row) in (0u64..).zip(&mut self.envs).zip(obs.rows_mut()) {
            row.assign(&ArrayView1::from(
                &env.reset(seed.map(|s| s.wrapping_add(i))),
            ));
        }
        obs
    }

    /// Step every environment with its action (0 or 1) and write the results
    /// into `out`. Every action is checked before any environment moves, so a
    /// bad one leaves all of them as they were.
    pub fn step(&mut self, actions: ArrayView1<'_, i64>, out: VecOutput<'_>) -> Result<()> {
        let n = self.envs.len();
        if actions.len() != n {
            return Err(Error::Invalid(format!(
                "actions must hold one action per environment: expected {n}, got {}",
                actions.len()
            )));
        }
        let per_env = [out.rewards.len(), out.terminated.len(), out.truncated.len()];
        if out.obs.len() != 4 * n || per_env != [n; 3] {
            return Err(Error::Invalid(format!(
                "the output buffers must hold {n} environments (obs: 4 values each)"
            )));
        }
        if !self.started {
            return Err(Error::Invalid(
                "step() called before reset(); reset the environments first".into(),
            ));
        }
        self.actions.clear();
        for (i, &a) in actions.iter().enumerate() {
            let action = Action::try_from(a)
                .map_err(|_| Error::Invalid(format!("actions[{i}] must be 0 or 1, got {a}")))?;
            self.actions.push(action);
        }
        let (envs, actions) = (&mut self.envs[..], &self.actions[..]);
        if n <= ENVS_PER_TASK {
            return step_chunk(envs, actions, out);
        }
        let outputs = out
            .obs
            .par_chunks_mut(4 * ENVS_PER_TASK)
            .zip(out.rewards.par_chunks_mut(ENVS_PER_TASK))
            .zip(out.terminated.par_chunks_mut(ENVS_PER_TASK))
            .zip(out.truncated.par_chunks_mut(ENVS_PER_TASK))
            .map(|(((obs, rewards), terminated), truncated)| VecOutput {
                obs,
                rewards,
                terminated,
                truncated,
            });
        pool::install(|| {
            envs.par_chunks_mut(ENVS_PER_TASK)
                .zip(actions.par_chunks(ENVS_PER_TASK))
                .zip(outputs)
                .try_for_each(|((envs, actions), out)| step_chunk(envs, actions, out))
        })?
    }

    /// Every environment's state in full precision, shape `(num_envs, 4)`.
    pub fn states(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.envs.len(), 4), |(i, j)| self.envs[i].state[j])
    }

    /// The environments, e.g. to read one's state.
    pub fn envs(&self) -> &[CartPole] {
        &self.envs
    }

    /// Whether [`reset`](Self::reset) has been called (stepping needs it).
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The vector environment whose environments' snapshots these are
    /// ([`CartPole::snapshot`]), in order, `started` as [`is_started`](Self::is_started)
    /// said. Every snapshot is checked as in [`CartPole::restore`], and an
    /// environment is waiting for its first reset exactly when the vector is
    /// not started ([`Error::Invalid`] otherwise); no snapshots is an error too.
    pub fn restore(snapshots: &[Snapshot], started: bool) -> Result<Self> {
        let mut restored = Self::new(snapshots.len())?;
        for (i, (env, &snapshot)) in restored.envs.iter_mut().zip(snapshots).enumerate() {
            if (snapshot.phase == Snapshot::NEEDS_RESET) == started {
                let (expected, how) = if started {
                    ("started", "must have been reset")
                } else {
                    ("not started", "cannot have been reset")
                };
                return Err(Error::Invalid(format!(
                    "environment {i} of a vector that is {expected} {how}"
                )));
            }
            *env = CartPole::restore(snapshot)
                .map_err(|err| Error::Invalid(format!("environment {i}: {err}")))?;
        }
        restored.started = started;
        Ok(restored)
    }
}

fn step_chunk(envs: &mut [CartPole], actions: &[Action], out: VecOutput<'_>) -> Result<()> {
    for (i, (env, &action)) in envs.iter_mut().zip(actions).enumerate() {
        let t = env.autoreset_step(action)?;
        out.obs[4 * i..4 * i + 4].copy_from_slice(&t.observation);
        out.rewards[i] = t.reward;
        out.terminated[i] = t.terminated;
        out.truncated[i] = t.truncated;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        // First outputs of the reference C implementation.
        let mut rng = SplitMix64::new(1234567);
        let expected = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn uniform_stays_in_its_half_open_range() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..100_000 {
            let v = rng.uniform(-INIT_BOUND, INIT_BOUND);
            assert!((-INIT_BOUND..INIT_BOUND).contains(&v));
        }
        // The largest value next_f64 can return still maps below the bound.
        let max_unit = ((1u64 << 53) - 1) as f64 / (1u64 << 53) as f64;
        assert!(-INIT_BOUND + 2.0 * INIT_BOUND * max_unit < INIT_BOUND);
    }

    #[test]
    fn reset_is_reproducible_from_its_seed() {
        let (mut a, mut b) = (CartPole::new(), CartPole::new());
        assert_eq!(a.reset(Some(42)), b.reset(Some(42)));
        assert_eq!(a.state(), b.state());
        // Without a seed the stream continues: a new start, the same for both.
        let next = a.reset(None);
        assert_eq!(next, b.reset(None));
        assert_ne!(next, a.reset(Some(42)));
        assert_ne!(a.reset(Some(1)), b.reset(Some(2)));
        let mut rng = SplitMix64::new(42);
        let first: [f64; 4] = std::array::from_fn(|_| rng.uniform(-0.05, 0.05));
        assert_eq!(a.reset(Some(42)), first.map(|v| v as f32));
    }

    #[test]
    fn one_step_follows_the_equations() {
        let mut env = CartPole::new();
        env.reset(Some(0));
        env.state = [0.0; 4];
        let t = env.step(Action::Right).unwrap();
        // From rest and upright only the force acts: x_acc = F / (M + m) minus
        // the pole's reaction; the cart has not moved yet (Euler).
        let theta_acc =
            -(FORCE_MAG / TOTAL_MASS) / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE / TOTAL_MASS));
        let x_acc = FORCE_MAG / TOTAL_MASS - POLE_MASS_LENGTH * theta_acc / TOTAL_MASS;
        assert_eq!(env.state(), [0.0, TAU * x_acc, 0.0, TAU * theta_acc]);
        assert_eq!(t.reward, 1.0);
        assert!(!t.terminated && !t.truncated);
        assert!(env.state()[1] > 0.0 && env.state()[3] < 0.0);
    }

    #[test]
    fn pushing_one_way_terminates_and_then_stepping_is_an_error() {
        let mut env = CartPole::new();
        assert!(
            matches!(env.step(Action::Left), Err(Error::Invalid(m)) if m.contains("before reset"))
        );
        env.reset(Some(3));
        let mut steps = 0;
        loop {
            let t = env.step(Action::Right).unwrap();
            steps += 1;
            assert_eq!(t.reward, 1.0);
            if t.terminated {
                assert!(!t.truncated);
                break;
            }
        }
        assert!(
            steps < 50,
            "the pole falls quickly when always pushed right"
        );
        let [x, _, theta, _] = env.state();
        assert!(x.abs() > X_THRESHOLD || theta.abs() > THETA_THRESHOLD);
        assert!(
            matches!(env.step(Action::Left), Err(Error::Invalid(m)) if m.contains("terminated"))
        );
        env.reset(None);
        assert!(env.step(Action::Left).is_ok());
    }

    /// A simple controller that keeps the pole up for the whole episode.
    fn balance(state: [f64; 4]) -> Action {
        let [x, x_dot, theta, theta_dot] = state;
        if theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0.0 {
            Action::Right
        } else {
            Action::Left
        }
    }

    #[test]
    fn a_balanced_pole_is_truncated_after_500_steps() {
        let mut env = CartPole::new();
        env.reset(Some(11));
        for step in 1..=MAX_EPISODE_STEPS {
            let t = env.step(balance(env.state())).unwrap();
            assert!(!t.terminated, "fell at step {step}");
            assert_eq!(t.truncated, step == MAX_EPISODE_STEPS);
            assert_eq!(env.elapsed_steps(), step);
        }
        assert!(
            matches!(env.step(Action::Left), Err(Error::Invalid(m)) if m.contains("truncated"))
        );
    }

    #[test]
    fn actions_other_than_0_and_1_are_rejected() {
        assert_eq!(Action::try_from(0).unwrap(), Action::Left);
        assert_eq!(Action::try_from(1).unwrap(), Action::Right);
        for bad in [-1, 2, i64::MAX, i64::MIN] {
            assert!(
                matches!(Action::try_from(bad), Err(Error::Invalid(m)) if m.contains("0 (push left) or 1"))
            );
        }
    }

    #[test]
    fn a_restored_snapshot_continues_bit_for_bit() {
        let mut env = CartPole::new();
        assert_eq!(env.snapshot().phase, Snapshot::NEEDS_RESET);
        let mut fresh = CartPole::restore(env.snapshot()).unwrap();
        assert_eq!(
            env.reset(None),
            fresh.reset(None),
            "the same entropy-seeded stream"
        );
        env.reset(Some(5));
        for _ in 0..5 {
            env.step(Action::Right).unwrap();
        }
        let mut copy = CartPole::restore(env.snapshot()).unwrap();
        assert_eq!(copy.snapshot(), env.snapshot());
        // To the end of the episode and through resets drawn from the generator.
        for episode in 0..3 {
            while !env.is_done() {
                assert_eq!(
                    env.step(Action::Left).unwrap(),
                    copy.step(Action::Left).unwrap()
                );
            }
            let phase = env.snapshot().phase;
            assert_eq!(phase, Snapshot::TERMINATED, "episode {episode}");
            assert_eq!(
                CartPole::restore(env.snapshot()).unwrap().snapshot(),
                env.snapshot()
            );
            assert_eq!(env.reset(None), copy.reset(None));
        }
        env.reset(Some(11));
        for _ in 0..MAX_EPISODE_STEPS {
            env.step(balance(env.state())).unwrap();
        }
        assert_eq!(env.snapshot().phase, Snapshot::TRUNCATED);
        let mut copy = CartPole::restore(env.snapshot()).unwrap();
        assert!(copy.step(Action::Left).is_err() && copy.is_done());
    }

    #[test]
    fn impossible_snapshots_are_errors() {
        let mut env = CartPole::new();
        env.reset(Some(1));
        let good = env.snapshot();
        let cases = [
            (Snapshot { phase: 4, ..good }, "phase 4"),
            (
                Snapshot {
                    phase: u8::MAX,
                    ..good
                },
                "phase 255",
            ),
            (
                Snapshot {
                    steps: MAX_EPISODE_STEPS,
                    ..good
                },
                "at most 499",
            ),
            (
                Snapshot {
                    steps: u32::MAX,
                    phase: Snapshot::TRUNCATED,
                    ..good
                },
                "at most 500",
            ),
            (
                Snapshot {
                    state: [0.0, f64::NAN, 0.0, 0.0],
                    ..good
                },
                "finite",
            ),
            (
                Snapshot {
                    state: [f64::INFINITY; 4],
                    ..good
                },
                "finite",
            ),
        ];
        for (snapshot, message) in cases {
            let err = CartPole::restore(snapshot).unwrap_err().to_string();
            assert!(err.contains(message), "{snapshot:?}: {err}");
        }
        let mut vec_env = CartPoleVec::new(3).unwrap();
        let not_started: Vec<Snapshot> = vec_env.envs().iter().map(CartPole::snapshot).collect();
        vec_env.reset(Some(2));
        let started: Vec<Snapshot> = vec_env.envs().iter().map(CartPole::snapshot).collect();
        assert!(CartPoleVec::restore(&started, true).is_ok());
        assert!(CartPoleVec::restore(&not_started, false).is_ok());
        for (snapshots, flag) in [(&started, false), (&not_started, true)] {
            let err = CartPoleVec::restore(snapshots, flag)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("environment 0 of a vector"), "{err}");
        }
        let mut bad = started.clone();
        bad[2].phase = 9;
        let err = CartPoleVec::restore(&bad, true).unwrap_err().to_string();
        assert!(
            err.starts_with("environment 2: unknown cart-pole phase 9"),
            "{err}"
        );
        assert!(matches!(
            CartPoleVec::restore(&[], true),
            Err(Error::Invalid(_))
        ));
    }

    /// Output buffers for `n` environments.
    struct Buffers {
        obs: Vec<f32>,
        rewards: Vec<f64>,
        terminated: Vec<bool>,
        truncated: Vec<bool>,
    }

    impl Buffers {
        fn new(n: usize) -> Self {
            Self {
                obs: vec![0.0; 4 * n],
                rewards: vec![0.0; n],
                terminated: vec![false; n],
                truncated: vec![false; n],
            }
        }

        fn out(&mut self) -> VecOutput<'_> {
            VecOutput {
                obs: &mut self.obs,
                rewards: &mut self.rewards,
                terminated: &mut self.terminated,
                truncated: &mut self.truncated,
            }
        }

        fn transition(&self, i: usize) -> Transition {
            Transition {
                observation: std::array::from_fn(|j| self.obs[4 * i + j]),
                reward: self.rewards[i],
                terminated: self.terminated[i],
                truncated: self.truncated[i],
            }
        }
    }

    /// What a single environment does under next-step autoreset, written from
    /// the rule rather than with `autoreset_step`, so the vector env is checked
    /// against an independent statement of it.
    fn single_autoreset_step(env: &mut CartPole, action: i64) -> Transition {
        if env.is_done() {
            Transition {
                observation: env.reset(None),
                reward: 0.0,
                terminated: false,
                truncated: false,
            }
        } else {
            env.step(Action::try_from(action).unwrap()).unwrap()
        }
    }

    fn run_vec(n: usize, seed: u64, steps: usize) -> (CartPoleVec, Vec<CartPole>) {
        let mut vec_env = CartPoleVec::new(n).unwrap();
        let mut singles: Vec<CartPole> = (0..n).map(|_| CartPole::new()).collect();
        let obs = vec_env.reset(Some(seed));
        for (i, env) in singles.iter_mut().enumerate() {
            assert_eq!(
                obs.row(i).to_vec(),
                env.reset(Some(seed + i as u64)).to_vec()
            );
        }
        let mut rng = SplitMix64::new(seed);
        let mut buffers = Buffers::new(n);
        for step in 0..steps {
            // Half the environments balance (and reach the time limit), half act at random.
            let actions: Array1<i64> = (0..n)
                .map(|i| match i % 2 {
                    0 => balance(singles[i].state()) as i64,
                    _ => (rng.next_u64() & 1) as i64,
                })
                .collect();
            vec_env.step(actions.view(), buffers.out()).unwrap();
            for (i, env) in singles.iter_mut().enumerate() {
                let expected = single_autoreset_step(env, actions[i]);
                assert_eq!(buffers.transition(i), expected, "env {i}, step {step}");
                assert_eq!(vec_env.envs()[i].state(), env.state());
            }
        }
        (vec_env, singles)
    }

    #[test]
    fn a_vector_env_equals_independent_envs_with_next_step_autoreset() {
        // Serial (one task) and on rayon's pool (several tasks, a partial last one).
        for (n, steps) in [(1, 520), (5, 520), (2 * ENVS_PER_TASK + 3, 40)] {
            let (vec_env, singles) = run_vec(n, 99, steps);
            assert_eq!(vec_env.states().nrows(), singles.len());
        }
    }

    #[test]
    fn a_vector_env_checks_everything_before_moving() {
        assert!(matches!(CartPoleVec::new(0), Err(Error::Invalid(_))));
        let mut env = CartPoleVec::new(3).unwrap();
        let mut buffers = Buffers::new(3);
        let ok = Array1::from(vec![0i64, 1, 0]);
        assert!(
            matches!(env.step(ok.view(), buffers.out()), Err(Error::Invalid(m)) if m.contains("before reset"))
        );
        env.reset(Some(5));
        let before = env.states();
        let bad = Array1::from(vec![0i64, 2, 0]);
        assert!(
            matches!(env.step(bad.view(), buffers.out()), Err(Error::Invalid(m)) if m == "actions[1] must be 0 or 1, got 2")
        );
        let short = Array1::from(vec![0i64, 1]);
        assert!(
            matches!(env.step(short.view(), buffers.out()), Err(Error::Invalid(m)) if m.contains("expected 3, got 2"))
        );
        let mut small = Buffers::new(2);
        assert!(
            matches!(env.step(ok.view(), small.out()), Err(Error::Invalid(m)) if m.contains("hold 3 environments"))
        );
        assert_eq!(env.states(), before, "nothing moved");
        assert!(env.step(ok.view(), buffers.out()).is_ok());
        assert_ne!(env.states(), before);
    }

    mod properties {
        use proptest::collection::vec;
        use proptest::prelude::*;

        use super::*;

        /// The action of environment `i` on a step: bit `i` of the step's
        /// word, so up to 64 environments follow any sequence at all; larger
        /// vectors repeat the pattern, inverted every 64 environments.
        fn action(word: u64, i: usize) -> i64 {
            (((word >> (i % 64)) ^ (i / 64) as u64) & 1) as i64
        }

        /// A number of environments and one action word per step: mostly
        /// small vectors stepped for long (episodes end, environments reset),
        /// sometimes vectors spread over several rayon tasks, stepped briefly.
        fn runs() -> impl Strategy<Value = (usize, Vec<u64>)> {
            prop_oneof![
                4 => (1usize..=64, vec(any::<u64>(), 0..300)),
                1 => (ENVS_PER_TASK + 1..=2 * ENVS_PER_TASK + 3, vec(any::<u64>(), 0..8)),
            ]
        }

        proptest! {
            #[test]
            fn a_vector_env_equals_single_envs_seeded_one_apart(
                (n, words) in runs(),
                // Seeds near the top too: `seed + i` must wrap around.
                seed in prop_oneof![any::<u64>(), u64::MAX - 100..=u64::MAX],
            ) {
                let mut vec_env = CartPoleVec::new(n).unwrap();
                let obs = vec_env.reset(Some(seed));
                let mut singles = vec![CartPole::new(); n];
                for (i, env) in singles.iter_mut().enumerate() {
                    let first = env.reset(Some(seed.wrapping_add(i as u64)));
                    prop_assert_eq!(obs.row(i).to_vec(), first.to_vec(), "env {}", i);
                }
                let mut buffers = Buffers::new(n);
                for (step, &word) in words.iter().enumerate() {
                    if step == words.len() / 2 {
                        // Halfway, continue on a restored snapshot of the vector.
                        let snapshots: Vec<Snapshot> =
                            vec_env.envs().iter().map(CartPole::snapshot).collect();
                        vec_env = CartPoleVec::restore(&snapshots, vec_env.is_started()).unwrap();
                    }
                    let actions: Array1<i64> = (0..n).map(|i| action(word, i)).collect();
                    vec_env.step(actions.view(), buffers.out()).unwrap();
                    for (i, env) in singles.iter_mut().enumerate() {
                        let expected = single_autoreset_step(env, actions[i]);
                        prop_assert_eq!(buffers.transition(i), expected, "env {}, step {}", i, step);
                        prop_assert_eq!(vec_env.envs()[i].state(), env.state());
                    }
                }
            }
        }
    }
}
