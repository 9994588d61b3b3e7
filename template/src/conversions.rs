//! The Rust side of the Python <-> Rust type conversions shown in
//! `src/python/conversions.rs`.
//!
//! The conversions themselves happen in the bindings (PyO3 and rust-numpy do
//! them from the argument and return types); what is left for the core is
//! ordinary Rust on ordinary Rust types, `&str` and ndarray views, with no
//! knowledge of Python.

use ndarray::{Array1, ArrayViewD, ArrayViewMutD};

use crate::{Result, alloc};

/// Sum of every element of a view of any shape and any strides. Reading a
/// strided view walks its strides; nothing is copied.
pub fn view_sum(view: ArrayViewD<'_, f64>) -> f64 {
    view.sum()
}

/// Multiply every element of a view of any shape and strides, in place.
pub fn view_scale(mut view: ArrayViewMutD<'_, f64>, factor: f64) {
    view.map_inplace(|x| *x *= factor);
}

/// `[0.0, 1.0, ..., n - 1]` as an array that Rust allocates; an error rather
/// than an abort when that much memory cannot be reserved.
pub fn arange(n: usize) -> Result<Array1<f64>> {
    let mut values = alloc::try_with_capacity(n, "values")?;
    values.extend((0..n).map(|i| i as f64));
    Ok(Array1::from_vec(values))
}

/// `(characters, UTF-8 bytes)` of a string: Python's `len(text)` counts code
/// points, Rust's `text.len()` counts bytes, and they differ for anything
/// beyond ASCII.
pub fn str_lengths(text: &str) -> (usize, usize) {
    (text.chars().count(), text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    #[test]
    fn views_of_any_layout_are_read_and_written_in_place() {
        let mut m = Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64);
        assert_eq!(view_sum(m.view().into_dyn()), (0..24).sum::<i32>() as f64);
        // Transposed, stepped and reversed views: strided, not contiguous.
        assert_eq!(view_sum(m.t().into_dyn()), 276.0);
        let every_other = m.slice(s![.., ..;2]);
        assert!(every_other.as_slice().is_none());
        assert_eq!(view_sum(every_other.into_dyn()), 132.0);
        assert_eq!(
            view_sum(m.slice(s![..;-1, 1]).into_dyn()),
            1.0 + 7.0 + 13.0 + 19.0
        );
        view_scale(m.slice_mut(s![.., ..;2]).into_dyn(), -1.0);
        assert_eq!(m[[0, 0]], -0.0);
        assert_eq!(m[[0, 1]], 1.0);
        assert_eq!(m[[3, 4]], -22.0);
        assert_eq!(view_sum(m.view().into_dyn()), 276.0 - 2.0 * 132.0);
    }

    #[test]
    fn arange_counts_up_and_refuses_impossible_sizes() {
        assert_eq!(arange(4).unwrap().to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
        assert!(arange(0).unwrap().is_empty());
        assert!(matches!(
            arange(usize::MAX),
            Err(crate::Error::OutOfMemory { .. })
        ));
    }

    #[test]
    fn str_lengths_count_characters_and_bytes() {
        assert_eq!(str_lengths("abc"), (3, 3));
        assert_eq!(str_lengths("héllo"), (5, 6));
        assert_eq!(str_lengths("世界"), (2, 6));
        assert_eq!(str_lengths("🦀"), (1, 4));
        assert_eq!(str_lengths(""), (0, 0));
    }
}
