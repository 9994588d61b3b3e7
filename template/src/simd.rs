//! Explicit SIMD: a dot product and an element-wise multiply written with
//! `std::arch` intrinsics (AVX2 + FMA on x86_64, NEON on aarch64), plus the
//! portable scalar code every CPU can run.
//!
//! The instruction set is chosen at run time, in one place ([`Backend::detect`]
//! and the check in each public function): a wheel built for plain x86_64 still
//! uses AVX2 on a CPU that has it and never executes an AVX2 instruction on one
//! that does not (that would be `SIGILL`, or undefined behaviour if the
//! compiler had assumed the feature). Every public function accepts any length
//! and any alignment: the vector loop walks `chunks_exact`, so it can only see
//! whole blocks, and the remainder is finished in scalar code.
//!
//! Rounding: the SIMD dot product keeps several partial sums and uses fused
//! multiply-add, so its result differs from the scalar one in the last bits
//! (both are within the usual `n * eps * sum(|a * b|)` bound). The multiply has
//! one rounding per element on every backend: its results are bit-identical.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// An implementation of the kernels in this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable Rust without intrinsics; runs everywhere.
    Scalar,
    /// 256-bit AVX2 vectors with fused multiply-add (x86_64 only).
    Avx2Fma,
    /// 128-bit NEON vectors with fused multiply-add (aarch64 only).
    Neon,
}

impl Backend {
    /// Every backend, best first.
    pub const ALL: [Backend; 3] = [Backend::Avx2Fma, Backend::Neon, Backend::Scalar];

    /// The name used in messages and by Python (`"avx2+fma"`, `"neon"`, `"scalar"`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Avx2Fma => "avx2+fma",
            Backend::Neon => "neon",
        }
    }

    /// Whether this CPU can run the backend. The answer comes from the CPU
    /// itself (CPUID on x86_64, the OS's hardware capabilities on aarch64),
    /// not from the flags this crate was compiled with; std caches it.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            // NEON is part of the aarch64 baseline, but asking keeps a single
            // rule for every backend: detected, then used.
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            _ => false,
        }
    }

    /// The backends this CPU can run, best first; always ends with `Scalar`.
    pub fn available() -> Vec<Backend> {
        Self::ALL.into_iter().filter(|b| b.is_available()).collect()
    }

    /// The best backend this CPU can run: what [`dot`] and [`multiply`] use.
    pub fn detect() -> Backend {
        Self::ALL
            .into_iter()
            .find(|b| b.is_available())
            .unwrap_or(Backend::Scalar)
    }

    /// `Ok(self)` if this CPU can run it. The kernels below rely on this check:
    /// it is what makes calling a `#[target_feature]` function sound.
    fn checked(self) -> Result<Backend> {
        if self.is_available() {
            Ok(self)
        } else {
            let names: Vec<&str> = Self::available().iter().map(|b| b.name()).collect();
            Err(Error::Invalid(format!(
                "backend '{}' is not available on this CPU (available: {})",
                self.name(),
                names.join(", ")
            )))
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = Error;

    /// Parse a name from [`Backend::name`]. Knowing the name does not mean the
    /// CPU can run it: the kernels check that separately.
    fn from_str(name: &str) -> Result<Backend> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|b| b.name()).collect();
                Error::Invalid(format!(
                    "unknown backend '{name}'; expected one of: {}",
                    names.join(", ")
                ))
            })
    }
}

fn same_length(arg: &'static str, expected: usize, actual: usize) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            arg,
            expected,
            actual,
        })
    }
}

/// `sum(a[i] * b[i])` with the best backend of this CPU. The empty dot
/// product is `0.0`, as in NumPy.
pub fn dot(a: &[f32], b: &[f32]) -> Result<f32> {
    dot_with(Backend::detect(), a, b)
}

/// [`dot`] with a chosen backend; an error if this CPU cannot run it.
pub fn dot_with(backend: Backend, a: &[f32], b: &[f32]) -> Result<f32> {
    same_length("b", a.len(), b.len())?;
    Ok(match backend.checked()? {
        // SAFETY: `checked` just confirmed that the CPU supports AVX2 and FMA,
        // the features `avx2::dot` is compiled for.
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2Fma => unsafe { avx2::dot(a, b) },
        // SAFETY: `checked` just confirmed that the CPU supports NEON.
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => unsafe { neon::dot(a, b) },
        _ => scalar::dot(a, b),
    })
}

/// `a * b` element by element, into a new vector, with the best backend.
pub fn multiply(a: &[f32], b: &[f32]) -> Result<Vec<f32>> {
    let mut out = crate::alloc::try_vec(a.len(), 0.0, "products")?;
    multiply_into(Backend::detect(), a, b, &mut out)?;
    Ok(out)
}

/// Write `a[i] * b[i]` into `out[i]`; all three must have the same length.
pub fn multiply_into(backend: Backend, a: &[f32], b: &[f32], out: &mut [f32]) -> Result<()> {
    same_length("b", a.len(), b.len())?;
    same_length("out", a.len(), out.len())?;
    match backend.checked()? {
        // SAFETY: `checked` just confirmed AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2Fma => unsafe { avx2::multiply_into(a, b, out) },
        // SAFETY: `checked` just confirmed NEON.
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => unsafe { neon::multiply_into(a, b, out) },
        _ => scalar::multiply_into(a, b, out),
    }
    Ok(())
}

/// `acc[i] *= b[i]`: the multiply in place (Rust's borrow rules forbid passing
/// one buffer as both `a` and `out` of [`multiply_into`]).
pub fn multiply_assign(backend: Backend, acc: &mut [f32], b: &[f32]) -> Result<()> {
    same_length("b", acc.len(), b.len())?;
    match backend.checked()? {
        // SAFETY: `checked` just confirmed AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2Fma => unsafe { avx2::multiply_assign(acc, b) },
        // SAFETY: `checked` just confirmed NEON.
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => unsafe { neon::multiply_assign(acc, b) },
        _ => scalar::multiply_assign(acc, b),
    }
    Ok(())
}

/// The fallback, and the reference the vector kernels are tested against.
/// The dot product is one serial chain of adds: without permission to
/// reassociate, the compiler does not vectorise it, so it shows what the
/// explicit vector code buys.
mod scalar {
    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).fold(0.0, |sum, (x, y)| sum + x * y)
    }

    pub(super) fn multiply_into(a: &[f32], b: &[f32], out: &mut [f32]) {
        for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
            *o = x * y;
        }
    }

    pub(super) fn multiply_assign(acc: &mut [f32], b: &[f32]) {
        for (o, y) in acc.iter_mut().zip(b) {
            *o *= y;
        }
    }
}

// The kernels below are `unsafe fn` with `#[target_feature]`: the compiler may
// use the named instructions anywhere in them, so calling one is only sound on
// a CPU that has those features (their `# Safety` contract; the public
// functions above check it). Their memory safety does not depend on the
// caller: every vector load and store goes through a chunk from
// `chunks_exact`, which is exactly one vector long, and the remainder is done
// in scalar code. Loads and stores are the unaligned kinds, so a slice may
// start at any address (NumPy views often start at an odd multiple of 4
// bytes). Each intrinsic call sits inside the same `unsafe` block as a load or
// store, so the code compiles unchanged on toolchains where the arithmetic
// intrinsics are still `unsafe` to call.

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };

    /// f32 values in one 256-bit register.
    const LANES: usize = 8;
    /// Independent accumulators: an FMA takes 4 cycles and two can start per
    /// cycle, so one accumulator would leave the unit mostly idle.
    const ACCUMULATORS: usize = 4;

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let (blocks_a, blocks_b) = (
            a.chunks_exact(LANES * ACCUMULATORS),
            b.chunks_exact(LANES * ACCUMULATORS),
        );
        let (vectors_a, vectors_b) = (
            blocks_a.remainder().chunks_exact(LANES),
            blocks_b.remainder().chunks_exact(LANES),
        );
        let (tail_a, tail_b) = (vectors_a.remainder(), vectors_b.remainder());
        // SAFETY: every pointer given to `_mm256_loadu_ps` is the start of a
        // `chunks_exact(LANES)` chunk, so the 8 floats it reads are in bounds;
        // `loadu` has no alignment requirement. The store writes 8 floats into
        // `lanes`, which holds 8. The CPU has AVX2 and FMA (this function's
        // contract).
        let vector_sum = unsafe {
            let mut acc = [_mm256_setzero_ps(); ACCUMULATORS];
            for (block_a, block_b) in blocks_a.zip(blocks_b) {
                let vectors = block_a.chunks_exact(LANES).zip(block_b.chunks_exact(LANES));
                for (acc, (x, y)) in acc.iter_mut().zip(vectors) {
                    let (x, y) = (_mm256_loadu_ps(x.as_ptr()), _mm256_loadu_ps(y.as_ptr()));
                    *acc = _mm256_fmadd_ps(x, y, *acc);
                }
            }
            let mut total =
                _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
            for (x, y) in vectors_a.zip(vectors_b) {
                let (x, y) = (_mm256_loadu_ps(x.as_ptr()), _mm256_loadu_ps(y.as_ptr()));
                total = _mm256_fmadd_ps(x, y, total);
            }
            let mut lanes = [0.0f32; LANES];
            _mm256_storeu_ps(lanes.as_mut_ptr(), total);
            lanes.iter().fold(0.0, |sum, x| sum + x)
        };
        super::scalar::dot(tail_a, tail_b) + vector_sum
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn multiply_into(a: &[f32], b: &[f32], out: &mut [f32]) {
        let (vectors_a, vectors_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (tail_a, tail_b) = (vectors_a.remainder(), vectors_b.remainder());
        let mut vectors_out = out.chunks_exact_mut(LANES);
        for ((o, x), y) in vectors_out.by_ref().zip(vectors_a).zip(vectors_b) {
            // SAFETY: `x`, `y` and `o` are `chunks_exact(LANES)` chunks, so the
            // two loads read and the store writes exactly their 8 floats;
            // `loadu`/`storeu` accept any alignment. AVX2 is available (contract).
            unsafe {
                let product =
                    _mm256_mul_ps(_mm256_loadu_ps(x.as_ptr()), _mm256_loadu_ps(y.as_ptr()));
                _mm256_storeu_ps(o.as_mut_ptr(), product);
            }
        }
        super::scalar::multiply_into(tail_a, tail_b, vectors_out.into_remainder());
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn multiply_assign(acc: &mut [f32], b: &[f32]) {
        let vectors_b = b.chunks_exact(LANES);
        let tail_b = vectors_b.remainder();
        let mut vectors_acc = acc.chunks_exact_mut(LANES);
        for (o, y) in vectors_acc.by_ref().zip(vectors_b) {
            // SAFETY: `o` and `y` are `chunks_exact(LANES)` chunks: the loads
            // read and the store writes exactly their 8 floats, at any
            // alignment. `o` is loaded before it is overwritten. AVX2 is
            // available (contract).
            unsafe {
                let product =
                    _mm256_mul_ps(_mm256_loadu_ps(o.as_ptr()), _mm256_loadu_ps(y.as_ptr()));
                _mm256_storeu_ps(o.as_mut_ptr(), product);
            }
        }
        super::scalar::multiply_assign(vectors_acc.into_remainder(), tail_b);
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use std::arch::aarch64::{
        vaddq_f32, vaddvq_f32, vdupq_n_f32, vfmaq_f32, vld1q_f32, vmulq_f32, vst1q_f32,
    };

    /// f32 values in one 128-bit register.
    const LANES: usize = 4;
    /// Independent accumulators, to keep several FMAs in flight.
    const ACCUMULATORS: usize = 4;

    /// # Safety
    /// The CPU must support NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let (blocks_a, blocks_b) = (
            a.chunks_exact(LANES * ACCUMULATORS),
            b.chunks_exact(LANES * ACCUMULATORS),
        );
        let (vectors_a, vectors_b) = (
            blocks_a.remainder().chunks_exact(LANES),
            blocks_b.remainder().chunks_exact(LANES),
        );
        let (tail_a, tail_b) = (vectors_a.remainder(), vectors_b.remainder());
        // SAFETY: every pointer given to `vld1q_f32` is the start of a
        // `chunks_exact(LANES)` chunk, so the 4 floats it reads are in bounds;
        // `vld1q_f32` needs only f32 alignment, which a `&[f32]` has. The CPU
        // has NEON (this function's contract).
        let vector_sum = unsafe {
            let mut acc = [vdupq_n_f32(0.0); ACCUMULATORS];
            for (block_a, block_b) in blocks_a.zip(blocks_b) {
                let vectors = block_a.chunks_exact(LANES).zip(block_b.chunks_exact(LANES));
                for (acc, (x, y)) in acc.iter_mut().zip(vectors) {
                    *acc = vfmaq_f32(*acc, vld1q_f32(x.as_ptr()), vld1q_f32(y.as_ptr()));
                }
            }
            let mut total = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
            for (x, y) in vectors_a.zip(vectors_b) {
                total = vfmaq_f32(total, vld1q_f32(x.as_ptr()), vld1q_f32(y.as_ptr()));
            }
            vaddvq_f32(total)
        };
        super::scalar::dot(tail_a, tail_b) + vector_sum
    }

    /// # Safety
    /// The CPU must support NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn multiply_into(a: &[f32], b: &[f32], out: &mut [f32]) {
        let (vectors_a, vectors_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (tail_a, tail_b) = (vectors_a.remainder(), vectors_b.remainder());
        let mut vectors_out = out.chunks_exact_mut(LANES);
        for ((o, x), y) in vectors_out.by_ref().zip(vectors_a).zip(vectors_b) {
            // SAFETY: `x`, `y` and `o` are `chunks_exact(LANES)` chunks, so the
            // loads read and the store writes exactly their 4 floats (f32
            // alignment suffices). NEON is available (contract).
            unsafe {
                vst1q_f32(
                    o.as_mut_ptr(),
                    vmulq_f32(vld1q_f32(x.as_ptr()), vld1q_f32(y.as_ptr())),
                )
            }
        }
        super::scalar::multiply_into(tail_a, tail_b, vectors_out.into_remainder());
    }

    /// # Safety
    /// The CPU must support NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn multiply_assign(acc: &mut [f32], b: &[f32]) {
        let vectors_b = b.chunks_exact(LANES);
        let tail_b = vectors_b.remainder();
        let mut vectors_acc = acc.chunks_exact_mut(LANES);
        for (o, y) in vectors_acc.by_ref().zip(vectors_b) {
            // SAFETY: `o` and `y` are `chunks_exact(LANES)` chunks: the loads
            // read and the store writes exactly their 4 floats; `o` is loaded
            // before it is overwritten. NEON is available (contract).
            unsafe {
                vst1q_f32(
                    o.as_mut_ptr(),
                    vmulq_f32(vld1q_f32(o.as_ptr()), vld1q_f32(y.as_ptr())),
                )
            }
        }
        super::scalar::multiply_assign(vectors_acc.into_remainder(), tail_b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-2, 2) with varied low bits (no RNG crate).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 8) as f32 / (1u32 << 22) as f32 - 2.0
            })
            .collect()
    }

    /// Every length from 0 to 257 (all block, vector and tail sizes) at every
    /// f32 offset inside a 32-byte line, so the slices start unaligned.
    fn cases() -> impl Iterator<Item = (usize, usize)> {
        (0..=257).flat_map(|n| (0..8).map(move |offset| (n, offset)))
    }

    #[test]
    fn scalar_is_always_available_and_listed_last() {
        let available = Backend::available();
        assert_eq!(available.last(), Some(&Backend::Scalar));
        assert_eq!(available[0], Backend::detect());
        assert!(available.iter().all(|b| b.is_available()));
    }

    #[test]
    fn the_native_backend_is_detected() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            assert_eq!(Backend::detect(), Backend::Avx2Fma);
        } else {
            assert_eq!(Backend::detect(), Backend::Scalar);
        }
        #[cfg(target_arch = "aarch64")]
        assert_eq!(Backend::detect(), Backend::Neon);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for backend in Backend::ALL {
            assert_eq!(backend.name().parse::<Backend>().unwrap(), backend);
            assert_eq!(backend.to_string(), backend.name());
        }
        let err = "avx512".parse::<Backend>().unwrap_err();
        assert!(
            err.to_string().contains("unknown backend 'avx512'"),
            "{err}"
        );
    }

    #[test]
    fn a_backend_this_cpu_lacks_is_an_error_not_a_crash() {
        for backend in Backend::ALL.into_iter().filter(|b| !b.is_available()) {
            let err = dot_with(backend, &[1.0], &[1.0]).unwrap_err();
            assert!(err.to_string().contains("not available"), "{err}");
            assert!(multiply_into(backend, &[1.0], &[1.0], &mut [0.0]).is_err());
            assert!(multiply_assign(backend, &mut [1.0], &[1.0]).is_err());
        }
    }

    #[test]
    fn dot_agrees_with_an_f64_reference_at_every_length_and_offset() {
        let (a_all, b_all) = (values(257 + 8, 1), values(257 + 8, 2));
        for backend in Backend::available() {
            for (n, offset) in cases() {
                let (a, b) = (&a_all[offset..offset + n], &b_all[offset..offset + n]);
                let exact: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
                let magnitude: f64 = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| (*x as f64 * *y as f64).abs())
                    .sum();
                let got = dot_with(backend, a, b).unwrap() as f64;
                let bound = (n as f64 + 1.0) * f32::EPSILON as f64 * magnitude;
                assert!(
                    (got - exact).abs() <= bound,
                    "{backend} n={n} offset={offset}: {got} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn the_detected_backend_is_close_to_the_scalar_one() {
        let (a, b) = (values(100_003, 3), values(100_003, 4));
        let magnitude: f32 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
        let fast = dot(&a, &b).unwrap();
        let slow = dot_with(Backend::Scalar, &a, &b).unwrap();
        // Both are within n * eps * magnitude of the truth; in practice far closer.
        assert!((fast - slow).abs() <= 1e-4 * magnitude, "{fast} vs {slow}");
    }

    #[test]
    fn dot_of_empty_slices_is_zero() {
        for backend in Backend::available() {
            let zero = dot_with(backend, &[], &[]).unwrap();
            assert_eq!(
                zero.to_bits(),
                0.0f32.to_bits(),
                "{backend}: +0.0, not -0.0"
            );
        }
    }

    #[test]
    fn multiply_is_bit_identical_on_every_backend() {
        let (a_all, b_all) = (values(257 + 8, 5), values(257 + 8, 6));
        for backend in Backend::available() {
            for (n, offset) in cases() {
                let (a, b) = (&a_all[offset..offset + n], &b_all[offset..offset + n]);
                let expected: Vec<f32> = a.iter().zip(b).map(|(x, y)| x * y).collect();
                let mut out = vec![f32::NAN; n];
                multiply_into(backend, a, b, &mut out).unwrap();
                assert_eq!(out, expected, "{backend} n={n} offset={offset}");
                let mut acc_all = a_all.clone();
                let acc = &mut acc_all[offset..offset + n];
                multiply_assign(backend, acc, b).unwrap();
                assert_eq!(
                    acc,
                    &expected[..],
                    "{backend} in place, n={n} offset={offset}"
                );
                // Nothing outside the slice was touched.
                assert_eq!(acc_all[..offset], a_all[..offset]);
                assert_eq!(acc_all[offset + n..], a_all[offset + n..]);
            }
        }
        assert_eq!(
            multiply(&[1.5, -2.0], &[2.0, 0.25]).unwrap(),
            vec![3.0, -0.5]
        );
    }

    #[test]
    fn length_mismatches_are_errors() {
        let mismatch = |r: Result<()>| matches!(r, Err(Error::LengthMismatch { .. }));
        assert!(matches!(
            dot(&[1.0, 2.0], &[1.0]),
            Err(Error::LengthMismatch {
                arg: "b",
                expected: 2,
                actual: 1
            })
        ));
        assert!(mismatch(multiply_into(
            Backend::Scalar,
            &[1.0],
            &[1.0],
            &mut [0.0, 0.0]
        )));
        assert!(mismatch(multiply_into(
            Backend::detect(),
            &[1.0, 2.0],
            &[1.0],
            &mut [0.0, 0.0]
        )));
        assert!(mismatch(multiply_assign(
            Backend::detect(),
            &mut [1.0],
            &[]
        )));
        assert!(multiply(&[1.0], &[1.0, 2.0]).is_err());
    }

    mod properties {
        use proptest::collection::vec;
        use proptest::prelude::*;

        use super::*;

        /// Two equally long slices, 0 to 299 values, each starting at any f32
        /// offset of a 32-byte line (`offset` values before it are unused).
        fn pair<T: Strategy<Value = f32> + Clone>(
            values: T,
        ) -> impl Strategy<Value = (Vec<f32>, Vec<f32>, usize)> {
            (0usize..300, 0usize..8).prop_flat_map(move |(n, offset)| {
                (
                    vec(values.clone(), n + offset),
                    vec(values.clone(), n + offset),
                    Just(offset),
                )
            })
        }

        /// Every f32 except NaN (whose payload the hardware may choose).
        fn not_nan() -> impl Strategy<Value = f32> + Clone {
            use proptest::num::f32::*;
            POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO | INFINITE
        }

        fn bits(values: &[f32]) -> Vec<u32> {
            values.iter().map(|v| v.to_bits()).collect()
        }

        proptest! {
            #[test]
            fn every_backend_is_within_rounding_of_the_scalar_dot(
                (a, b, offset) in pair(-1e3f32..1e3)
            ) {
                let (a, b) = (&a[offset..], &b[offset..]);
                let products = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y));
                let exact: f64 = products.clone().sum();
                // Each result is within (n + 1) * eps * sum(|a * b|) of the
                // exact value, so two results are within twice that.
                let bound = (a.len() as f64 + 1.0)
                    * f64::from(f32::EPSILON)
                    * products.map(f64::abs).sum::<f64>()
                    + 1e-30;
                let scalar = f64::from(dot_with(Backend::Scalar, a, b).unwrap());
                prop_assert!((scalar - exact).abs() <= bound, "scalar {} vs {}", scalar, exact);
                for backend in Backend::available() {
                    let got = f64::from(dot_with(backend, a, b).unwrap());
                    prop_assert!((got - exact).abs() <= bound, "{}: {} vs {}", backend, got, exact);
                    prop_assert!(
                        (got - scalar).abs() <= 2.0 * bound,
                        "{}: {} vs scalar {}", backend, got, scalar
                    );
                }
            }

            #[test]
            fn multiply_is_the_same_on_every_backend_bit_for_bit(
                (a, b, offset) in pair(not_nan())
            ) {
                let (a, b) = (&a[offset..], &b[offset..]);
                let expected: Vec<f32> = a.iter().zip(b).map(|(x, y)| x * y).collect();
                for backend in Backend::available() {
                    let mut out = vec![f32::NAN; a.len()];
                    multiply_into(backend, a, b, &mut out).unwrap();
                    prop_assert_eq!(bits(&out), bits(&expected), "{}", backend);
                    let mut acc = a.to_vec();
                    multiply_assign(backend, &mut acc, b).unwrap();
                    prop_assert_eq!(bits(&acc), bits(&expected), "{} in place", backend);
                }
            }
        }
    }
}
