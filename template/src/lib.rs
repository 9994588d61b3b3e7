//! The pure Rust core of this project.
//!
//! Nothing in this file knows about Python: it builds and is tested with
//! `cargo test --no-default-features`, and other Rust crates can depend on it
//! with `default-features = false`. The PyO3 bindings live in `src/python/`.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMutD, Zip};
use serde::{Deserialize, Serialize};

#[cfg(feature = "python")]
mod python;

/// The ndarray version this crate's API uses, for callers' convenience.
pub use ndarray;

/// Everything that can go wrong in the core. The Python layer maps each
/// variant to the exception a Python user would catch (see `src/python/errors.rs`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file could not be read or written (missing, permissions, ...).
    #[error("model file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The model file was read but is not a valid model.
    #[error("invalid model file {}: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Two inputs that must have the same length do not.
    #[error("length mismatch: expected {expected} values, got {actual}")]
    LengthMismatch { expected: usize, actual: usize },
    /// Two arrays that must have the same shape do not.
    #[error("shape mismatch: expected {expected:?}, got {actual:?}")]
    ShapeMismatch {
        expected: Vec<usize>,
        actual: Vec<usize>,
    },
    /// An input that must not be empty is.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A value is NaN or infinite where a finite number is required.
    #[error("{0} must be finite")]
    NotFinite(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Dot product of two equally long vectors.
///
/// `a.iter().zip(b).map(|(x, y)| x * y).sum()` is correct but slow: float
/// addition is not associative, so LLVM keeps one serial chain of adds. Eight
/// independent accumulators let it use a full SIMD register per step.
pub fn dot(a: ArrayView1<'_, f32>, b: ArrayView1<'_, f32>) -> Result<f32> {
    if a.len() != b.len() {
        return Err(Error::LengthMismatch {
            expected: a.len(),
            actual: b.len(),
        });
    }
    if a.is_empty() {
        return Err(Error::Empty("inputs"));
    }
    Ok(match (a.as_slice(), b.as_slice()) {
        (Some(a), Some(b)) => dot_contiguous(a, b),
        // Strided views (e.g. `x[::2]` in NumPy) are read in place, not copied.
        _ => a.iter().zip(b.iter()).map(|(x, y)| x * y).sum(),
    })
}

fn dot_contiguous(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            acc[i] += ca[i] * cb[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The article's image step: write `2 * input` into `out`.
///
/// The caller owns the output (NumPy allocates it, or the user passes `out=`):
/// writing into an existing buffer avoids the page faults that returning a
/// freshly allocated Rust array costs. Any dimensionality and any strides work.
pub fn process_image_into(
    input: ArrayViewD<'_, f32>,
    mut out: ArrayViewMutD<'_, f32>,
) -> Result<()> {
    if input.shape() != out.shape() {
        return Err(Error::ShapeMismatch {
            expected: input.shape().to_vec(),
            actual: out.shape().to_vec(),
        });
    }
    if input.is_empty() {
        return Err(Error::Empty("image"));
    }
    Zip::from(&mut out)
        .and(&input)
        .for_each(|o, &x| *o = x * 2.0);
    Ok(())
}

/// [`process_image_into`] for `out is image`: double every element in place.
pub fn process_image_in_place(mut image: ArrayViewMutD<'_, f32>) -> Result<()> {
    if image.is_empty() {
        return Err(Error::Empty("image"));
    }
    image.map_inplace(|x| *x *= 2.0);
    Ok(())
}

/// The article's linear model: `predict(x) = weights · x + bias`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)] // a typo such as "Bias" is an error, not a silent default
pub struct Model {
    weights: Vec<f32>,
    #[serde(default)]
    bias: f32,
}

impl Model {
    /// A model needs at least one weight, and every parameter must be finite.
    pub fn new(weights: Vec<f32>, bias: f32) -> Result<Self> {
        let model = Self { weights, bias };
        model.validate()?;
        Ok(model)
    }

    fn validate(&self) -> Result<()> {
        if self.weights.is_empty() {
            return Err(Error::Empty("weights"));
        }
        if !self.bias.is_finite() || self.weights.iter().any(|w| !w.is_finite()) {
            return Err(Error::NotFinite("model parameters"));
        }
        Ok(())
    }

    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    pub fn bias(&self) -> f32 {
        self.bias
    }

    /// Number of input features the model expects.
    pub fn n_features(&self) -> usize {
        self.weights.len()
    }

    /// Predict one sample.
    pub fn predict(&self, input: ArrayView1<'_, f32>) -> Result<f32> {
        Ok(dot(ArrayView1::from(&self.weights[..]), input)? + self.bias)
    }

    /// Predict every row of a `(n_samples, n_features)` matrix.
    pub fn predict_batch(&self, inputs: ArrayView2<'_, f32>) -> Result<Array1<f32>> {
        if inputs.ncols() != self.n_features() {
            return Err(Error::LengthMismatch {
                expected: self.n_features(),
                actual: inputs.ncols(),
            });
        }
        let weights = ArrayView1::from(&self.weights[..]);
        inputs
            .rows()
            .into_iter()
            .map(|row| dot(weights, row).map(|y| y + self.bias))
            .collect()
    }

    /// Write the model as JSON, the format [`load_model`] reads.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_vec_pretty(self).expect("a model always serialises");
        fs::write(path, json).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Model(n_features={}, bias={})",
            self.n_features(),
            self.bias
        )
    }
}

/// Load a model saved as JSON (`{"weights": [...], "bias": 0.0}`).
///
/// I/O problems and malformed content are different variants, so callers can
/// tell "missing file" from "corrupt file" (the article's `Box<dyn Error>` cannot).
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let model: Model = serde_json::from_slice(&bytes).map_err(|source| Error::Parse {
        path: path.to_owned(),
        source,
    })?;
    model.validate()?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array, s};

    #[test]
    fn dot_matches_the_article_example() {
        let y = dot(
            array![0.1f32, 0.2, 0.3].view(),
            array![1.0f32, 2.0, 3.0].view(),
        )
        .unwrap();
        assert!((y - 1.4).abs() < 1e-6);
    }

    #[test]
    fn dot_handles_every_tail_length_and_strides() {
        for n in 1..40 {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
            let expected: f64 = a.iter().zip(&b).map(|(x, y)| (x * y) as f64).sum();
            let got = dot(ArrayView1::from(&a[..]), ArrayView1::from(&b[..])).unwrap();
            assert!((got as f64 - expected).abs() <= 1e-3 * expected.abs().max(1.0));
        }
        let m = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32);
        // A column is a strided view: it must be read correctly, not copied.
        let col = m.slice(s![.., 1]);
        assert_eq!(dot(col, col).unwrap(), 1.0 + 16.0 + 49.0 + 100.0);
    }

    #[test]
    fn dot_rejects_bad_lengths() {
        let a = array![1.0f32, 2.0];
        let b = array![1.0f32];
        assert!(matches!(
            dot(a.view(), b.view()),
            Err(Error::LengthMismatch {
                expected: 2,
                actual: 1
            })
        ));
        let empty = Array1::<f32>::zeros(0);
        assert!(matches!(
            dot(empty.view(), empty.view()),
            Err(Error::Empty(_))
        ));
    }

    #[test]
    fn process_image_doubles_any_shape_and_layout() {
        let img = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32).into_dyn();
        let mut out = ndarray::ArrayD::<f32>::zeros(img.shape());
        process_image_into(img.view(), out.view_mut()).unwrap();
        assert_eq!(out, &img * 2.0);
        // Transposed (Fortran-order) input into a C-order output.
        let t = img.t();
        let mut out_t = ndarray::ArrayD::<f32>::zeros(t.shape());
        process_image_into(t.view(), out_t.view_mut()).unwrap();
        assert_eq!(out_t, &t * 2.0);
        let mut in_place = img.clone();
        process_image_in_place(in_place.view_mut()).unwrap();
        assert_eq!(in_place, out);
        let mut wrong = ndarray::ArrayD::<f32>::zeros(vec![4, 3]);
        assert!(matches!(
            process_image_into(img.view(), wrong.view_mut()),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn model_validates_its_parameters() {
        assert!(matches!(Model::new(vec![], 0.0), Err(Error::Empty(_))));
        assert!(matches!(
            Model::new(vec![1.0, f32::NAN], 0.0),
            Err(Error::NotFinite(_))
        ));
        assert!(matches!(
            Model::new(vec![1.0], f32::INFINITY),
            Err(Error::NotFinite(_))
        ));
    }

    #[test]
    fn predict_and_predict_batch_agree() {
        let model = Model::new(vec![0.1, 0.2, 0.3], 0.5).unwrap();
        let x = array![[1.0f32, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 1.0, 2.0]];
        let batch = model.predict_batch(x.view()).unwrap();
        for (row, y) in x.rows().into_iter().zip(batch.iter()) {
            assert_eq!(model.predict(row).unwrap(), *y);
        }
        assert!((batch[0] - 1.9).abs() < 1e-6);
        assert!(matches!(
            model.predict_batch(Array2::zeros((2, 4)).view()),
            Err(Error::LengthMismatch {
                expected: 3,
                actual: 4
            })
        ));
    }

    #[test]
    fn load_model_round_trips_and_types_its_errors() {
        let dir = std::env::temp_dir().join(format!("core-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let model = Model::new(vec![1.0, -2.0], 0.25).unwrap();
        let path = dir.join("model.json");
        model.save(&path).unwrap();
        assert_eq!(load_model(&path).unwrap(), model);

        let missing = load_model(dir.join("missing.json")).unwrap_err();
        assert!(
            matches!(&missing, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );

        let corrupt = dir.join("corrupt.json");
        fs::write(&corrupt, b"{\"weights\": [1.0,").unwrap();
        assert!(matches!(load_model(&corrupt), Err(Error::Parse { .. })));

        let typo = dir.join("typo.json");
        fs::write(&typo, b"{\"weights\": [1.0], \"Bias\": 5.0}").unwrap();
        assert!(matches!(load_model(&typo), Err(Error::Parse { .. })));

        let empty = dir.join("empty.json");
        fs::write(&empty, b"{\"weights\": []}").unwrap();
        assert!(matches!(load_model(&empty), Err(Error::Empty(_))));
        fs::remove_dir_all(&dir).unwrap();
    }
}
