//! Row partitions for spreading a batch over several processes or machines.
//!
//! Dask, Ray and `multiprocessing` each run one task per piece of the input;
//! this module decides the pieces. [`partition`] cuts `n_rows` rows into
//! contiguous ranges whose sizes differ by at most one, in order, so that the
//! results of the pieces, concatenated, are the result of the whole batch,
//! and no worker gets much more than its share. Nothing here knows about
//! Python or about a particular engine.

use std::ops::Range;

use crate::{Error, Result, alloc};

/// The largest `n_parts` accepted: far more pieces than any cluster runs
/// tasks at once, and few enough that the list of ranges stays small (16 MiB).
pub const MAX_PARTS: usize = 1 << 20;

/// Cut `n_rows` rows into at most `n_parts` contiguous, non-empty ranges, in order.
///
/// The ranges cover `0..n_rows` exactly once and their sizes differ by at
/// most one (the first `n_rows % parts` ranges have the extra row). With more
/// parts than rows, every row is a part of its own (`n_rows` ranges of one);
/// an empty input is a single empty range, so that a caller always has one
/// piece whose result carries the output's type. `n_parts` outside
/// `1..=`[`MAX_PARTS`] is [`Error::Invalid`]; a number of ranges that cannot
/// be allocated is [`Error::OutOfMemory`].
pub fn partition(n_rows: usize, n_parts: usize) -> Result<Vec<Range<usize>>> {
    if n_parts == 0 {
        return Err(Error::Invalid("n_parts must be at least 1, got 0".into()));
    }
    if n_parts > MAX_PARTS {
        return Err(Error::Invalid(format!(
            "n_parts must be at most {MAX_PARTS} (MAX_PARTS), got {n_parts}"
        )));
    }
    let parts = n_parts.min(n_rows).max(1);
    let (base, extra) = (n_rows / parts, n_rows % parts);
    let mut ranges = alloc::try_with_capacity(parts, "partitions")?;
    let mut start = 0;
    for i in 0..parts {
        let len = base + usize::from(i < extra);
        ranges.push(start..start + len);
        start += len;
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ranges as `(start, end)` pairs, which read better in a table.
    fn bounds(n_rows: usize, n_parts: usize) -> Vec<(usize, usize)> {
        partition(n_rows, n_parts)
            .unwrap()
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect()
    }

    /// `(n_rows, n_parts, expected (start, end) pairs)`.
    type Case = (usize, usize, &'static [(usize, usize)]);

    #[test]
    fn partitions_are_balanced_and_in_order() {
        let cases: [Case; 8] = [
            (10, 3, &[(0, 4), (4, 7), (7, 10)]),
            (9, 3, &[(0, 3), (3, 6), (6, 9)]),
            (10, 1, &[(0, 10)]),
            (1, 1, &[(0, 1)]),
            (3, 5, &[(0, 1), (1, 2), (2, 3)]),
            (0, 1, &[(0, 0)]),
            (0, 4, &[(0, 0)]),
            (5, 5, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]),
        ];
        for (n_rows, n_parts, expected) in cases {
            assert_eq!(
                bounds(n_rows, n_parts),
                expected,
                "{n_rows} rows, {n_parts} parts"
            );
        }
    }

    #[test]
    fn zero_parts_is_an_error() {
        for n_rows in [0, 1, 100] {
            assert!(
                matches!(partition(n_rows, 0), Err(Error::Invalid(m)) if m.contains("n_parts"))
            );
        }
    }

    #[test]
    fn too_many_parts_is_an_error() {
        // Not a huge allocation: the count is refused before any.
        for n_parts in [MAX_PARTS + 1, usize::MAX] {
            for n_rows in [0, 10, usize::MAX] {
                assert!(matches!(
                    partition(n_rows, n_parts),
                    Err(Error::Invalid(m)) if m.contains("n_parts") && m.contains("MAX_PARTS")
                ));
            }
        }
        assert_eq!(partition(10, MAX_PARTS).unwrap().len(), 10);
    }

    #[test]
    fn huge_counts_do_not_overflow_or_abort() {
        assert_eq!(bounds(usize::MAX, 1), [(0, usize::MAX)]);
        let half = usize::MAX / 2 + 1;
        assert_eq!(bounds(usize::MAX, 2), [(0, half), (half, usize::MAX)]);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn ranges_cover_every_row_once_in_order_and_balanced(
                n_rows in prop_oneof![0usize..200, 0usize..100_000],
                n_parts in prop_oneof![1usize..20, 1usize..300],
            ) {
                let ranges = partition(n_rows, n_parts).unwrap();
                prop_assert_eq!(ranges.len(), n_parts.min(n_rows).max(1));
                // Contiguous and disjoint: each starts where the previous ended,
                // the first at 0 and the last at n_rows, so every row is in one.
                prop_assert_eq!(ranges[0].start, 0);
                prop_assert_eq!(ranges[ranges.len() - 1].end, n_rows);
                for pair in ranges.windows(2) {
                    prop_assert_eq!(pair[0].end, pair[1].start);
                }
                let sizes: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
                let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                prop_assert!(max - min <= 1, "sizes {:?}", sizes);
                // Larger parts first; no empty part unless there are no rows.
                prop_assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
                prop_assert!(n_rows == 0 || *min >= 1);
                prop_assert_eq!(sizes.iter().sum::<usize>(), n_rows);
            }
        }
    }
}
