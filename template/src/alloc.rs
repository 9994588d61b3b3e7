//! Allocations whose size a caller chooses: an error, never an abort.
//!
//! `vec![x; n]` aborts the whole process when `n` elements cannot be
//! allocated, which from Python means the interpreter dies without a
//! traceback. Every buffer sized by an argument (an element count, the shape
//! of a broadcast view that takes no memory itself) is allocated here instead,
//! and a failure is [`Error::OutOfMemory`], which Python sees as `MemoryError`.

use crate::{Error, Result};

/// An empty vector with room for `len` elements; `what` names them in the
/// error ("not enough memory for 3000000000000 predictions").
pub fn try_with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut values = Vec::new();
    values
        .try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory {
            what: what.to_owned(),
            len,
        })?;
    Ok(values)
}

/// `len` copies of `value`.
pub fn try_vec<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut values = try_with_capacity(len, what)?;
    values.resize(len, value);
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_that_cannot_be_allocated_are_errors() {
        assert_eq!(try_vec(3, 1u8, "bytes").unwrap(), [1, 1, 1]);
        assert!(try_with_capacity::<u64>(0, "nothing").unwrap().is_empty());
        for len in [usize::MAX, usize::MAX / 8, 1 << 62] {
            let err = try_vec(len, 0.0f64, "values").unwrap_err();
            assert!(
                matches!(&err, Error::OutOfMemory { what, .. } if what == "values"),
                "{err}"
            );
        }
    }
}
