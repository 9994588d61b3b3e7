//! One model, many cores.
//!
//! A `Model` is immutable, so threads can share one through `Arc` without
//! copying it. This module does two things with that:
//!
//! - [`predict_rows`] (what `Model::predict_batch` calls) splits the rows of a
//!   batch into chunks that rayon's work-stealing pool runs on every core. Each
//!   row is computed exactly as the serial loop computes it
//!   (`dot(weights, row) + bias`), so the answer is the same bit for bit
//!   whatever the number of threads.
//! - [`predict_batches_threaded`] gives each OS thread its own `Arc<Model>`
//!   handle: sharing costs one atomic increment per thread, the weights are
//!   never copied.
//!
//! The work runs on the crate's thread pool (`crate::pool`, which survives
//! `fork`): as many threads as logical CPUs unless the `RAYON_NUM_THREADS`
//! environment variable is set before the first call.

use std::sync::Arc;
use std::thread;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, s};
use rayon::prelude::*;

use crate::{Error, Model, Result, alloc, dot, pool};

/// Multiply-adds per rayon task. Smaller tasks spend more time scheduling
/// than computing; batches of at most one task run on the calling thread.
const ELEMENTS_PER_TASK: usize = 32 * 1024;

/// How many rows one rayon task predicts (at least one).
fn rows_per_task(n_features: usize) -> usize {
    (ELEMENTS_PER_TASK / n_features.max(1)).max(1)
}

/// Number of threads in the pool [`predict_rows`] uses.
pub fn current_threads() -> usize {
    pool::current_num_threads()
}

/// Predict every row of `inputs` (`n_samples x n_features`, any strides) on
/// the crate's thread pool. Identical to the serial loop, bit for bit.
pub fn predict_rows(model: &Model, inputs: ArrayView2<'_, f32>) -> Result<Array1<f32>> {
    if inputs.ncols() != model.n_features() {
        return Err(Error::LengthMismatch {
            arg: "inputs",
            expected: model.n_features(),
            actual: inputs.ncols(),
        });
    }
    let weights = ArrayView1::from(model.weights());
    let bias = model.bias();
    let chunk_rows = rows_per_task(inputs.ncols());
    let mut out = alloc::try_vec(inputs.nrows(), 0.0f32, "predictions")?;
    if inputs.nrows() <= chunk_rows {
        predict_into(&mut out, weights, bias, inputs)?;
    } else {
        pool::install(|| {
            out.par_chunks_mut(chunk_rows)
                .enumerate()
                .try_for_each(|(i, chunk)| {
                    let start = i * chunk_rows;
                    let rows = inputs.slice(s![start..start + chunk.len(), ..]);
                    predict_into(chunk, weights, bias, rows)
                })
        })??;
    }
    Ok(Array1::from_vec(out))
}

/// The per-row arithmetic, shared by the serial and the parallel path.
fn predict_into(
    out: &mut [f32],
    weights: ArrayView1<'_, f32>,
    bias: f32,
    rows: ArrayView2<'_, f32>,
) -> Result<()> {
    for (y, row) in out.iter_mut().zip(rows.rows()) {
        *y = dot(weights, row)? + bias;
    }
    Ok(())
}

/// Predict each batch on its own OS thread. Every thread gets a clone of the
/// `Arc` (a reference count), never a copy of the model; each
/// `predict_batch` call then also uses rayon's pool.
pub fn predict_batches_threaded(
    model: Arc<Model>,
    batches: Vec<Array2<f32>>,
) -> Result<Vec<Array1<f32>>> {
    on_threads(model, batches, |model, batch| {
        model.predict_batch(batch.view())
    })
    .into_iter()
    .collect()
}

/// Run `work(model, item)` for each item on a thread of its own, each thread
/// holding its own `Arc` handle to the one model; results in item order.
fn on_threads<T, R, F>(model: Arc<Model>, items: Vec<T>, work: F) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(&Arc<Model>, T) -> R + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let handles: Vec<_> = items
        .into_iter()
        .map(|item| {
            let (model, work) = (Arc::clone(&model), Arc::clone(&work));
            thread::spawn(move || work(&model, item))
        })
        .collect();
    handles
        .into_iter()
        // A panic in a worker is re-raised here, as std::thread::scope does.
        .map(|handle| {
            handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    /// The serial loop that `predict_rows` must reproduce exactly.
    fn serial(model: &Model, inputs: ArrayView2<'_, f32>) -> Vec<f32> {
        let weights = ArrayView1::from(model.weights());
        inputs
            .rows()
            .into_iter()
            .map(|row| dot(weights, row).unwrap() + model.bias())
            .collect()
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    fn model(n_features: usize) -> Model {
        let weights = (0..n_features).map(|j| (j as f32 * 0.37).sin()).collect();
        Model::new(weights, 0.125).unwrap()
    }

    fn batch(rows: usize, cols: usize) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 7) as f32 * 0.01).cos()
        })
    }

    #[test]
    fn matches_the_serial_loop_bit_for_bit() {
        // 0 and 1 rows, exactly one task, one more than a task, many tasks.
        for (rows, cols) in [(0, 3), (1, 3), (5, 1), (1024, 32), (1025, 32), (10_000, 7)] {
            let m = model(cols);
            let x = batch(rows, cols);
            let got = predict_rows(&m, x.view()).unwrap();
            assert_eq!(got.len(), rows);
            assert_eq!(bits(got.as_slice().unwrap()), bits(&serial(&m, x.view())));
            assert_eq!(got, m.predict_batch(x.view()).unwrap());
        }
    }

    #[test]
    fn strided_and_fortran_order_inputs_are_read_in_place() {
        let m = model(9);
        let fortran = Array2::from_shape_fn((5000, 9).f(), |(i, j)| (i as f32 - j as f32) * 0.5);
        let big = batch(8000, 18);
        let every_other = big.slice(s![..;2, ..;2]);
        let reversed = big.slice(s![..;-1, 1..;2]);
        for view in [fortran.view(), every_other, reversed] {
            let got = predict_rows(&m, view).unwrap();
            assert_eq!(bits(got.as_slice().unwrap()), bits(&serial(&m, view)));
        }
    }

    #[test]
    fn the_answer_does_not_depend_on_the_thread_count() {
        let m = model(16);
        let x = batch(20_000, 16);
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| predict_rows(&m, x.view()).unwrap())
        };
        let one = on(1);
        assert_eq!(bits(one.as_slice().unwrap()), bits(&serial(&m, x.view())));
        for threads in [2, 3, 8] {
            assert_eq!(
                bits(on(threads).as_slice().unwrap()),
                bits(one.as_slice().unwrap())
            );
        }
    }

    #[test]
    fn rejects_a_wrong_number_of_columns() {
        let m = model(3);
        for rows in [0, 1, 5000] {
            assert!(matches!(
                predict_rows(&m, Array2::zeros((rows, 4)).view()),
                Err(Error::LengthMismatch {
                    arg: "inputs",
                    expected: 3,
                    actual: 4
                })
            ));
        }
    }

    #[test]
    fn threads_share_one_model_without_copying_it() {
        const THREADS: usize = 4;
        let model = Arc::new(model(3));
        let address = Arc::as_ptr(&model) as usize;
        // Two barriers: every thread reads the count while all of them still
        // hold their handle.
        let (started, counted) = (
            Arc::new(Barrier::new(THREADS)),
            Arc::new(Barrier::new(THREADS)),
        );
        let seen = on_threads(Arc::clone(&model), vec![(); THREADS], move |m, ()| {
            started.wait();
            let count = Arc::strong_count(m);
            counted.wait();
            (Arc::as_ptr(m) as usize, count)
        });
        for (ptr, count) in seen {
            assert_eq!(ptr, address, "every thread sees the same model");
            // Ours, the one on_threads holds, and one per thread.
            assert_eq!(count, THREADS + 2);
        }
        assert_eq!(Arc::strong_count(&model), 1, "every handle was dropped");
    }

    #[test]
    fn threaded_batches_match_predict_batch_and_report_errors() {
        let model = Arc::new(model(6));
        let batches: Vec<_> = [0, 1, 300, 9000].iter().map(|&n| batch(n, 6)).collect();
        let got = predict_batches_threaded(Arc::clone(&model), batches.clone()).unwrap();
        for (x, y) in batches.iter().zip(&got) {
            assert_eq!(y, model.predict_batch(x.view()).unwrap());
        }
        assert!(
            predict_batches_threaded(Arc::clone(&model), vec![])
                .unwrap()
                .is_empty()
        );
        let bad = vec![batch(3, 6), batch(3, 5)];
        assert!(matches!(
            predict_batches_threaded(model, bad),
            Err(Error::LengthMismatch {
                arg: "inputs",
                expected: 6,
                actual: 5
            })
        ));
    }

    mod properties {
        use ndarray::Axis;
        use proptest::collection::vec;
        use proptest::prelude::*;

        use super::*;

        /// How the batch sits in memory.
        #[derive(Debug, Clone, Copy)]
        enum Layout {
            RowMajor,
            ColumnMajor,
            /// Rows in reverse order (a negative stride).
            Reversed,
            /// Every other row and column of a larger array.
            EveryOther,
        }

        /// A `rows x cols` batch in `layout`, its values drawn from `seed`
        /// (a hash, not a strategy per value: up to 120 000 values a case).
        fn batch(rows: usize, cols: usize, layout: Layout, seed: u64) -> Array2<f32> {
            let value = |i: usize, j: usize| {
                let mut z =
                    seed ^ (((i as u64) << 32) | j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z >> 40) as f32 / (1u64 << 20) as f32 - 8.0 // [-8, 8)
            };
            match layout {
                Layout::RowMajor => Array2::from_shape_fn((rows, cols), |(i, j)| value(i, j)),
                Layout::ColumnMajor => {
                    Array2::from_shape_fn((rows, cols).f(), |(i, j)| value(i, j))
                }
                Layout::Reversed => {
                    let mut x = Array2::from_shape_fn((rows, cols), |(i, j)| value(i, j));
                    x.invert_axis(Axis(0));
                    x
                }
                Layout::EveryOther => {
                    let x = Array2::from_shape_fn((2 * rows, 2 * cols), |(i, j)| value(i, j));
                    x.slice_move(s![..;2, ..;2])
                }
            }
        }

        fn layout() -> impl Strategy<Value = Layout> {
            prop_oneof![
                Just(Layout::RowMajor),
                Just(Layout::ColumnMajor),
                Just(Layout::Reversed),
                Just(Layout::EveryOther),
            ]
        }

        proptest! {
            #[test]
            fn predict_rows_is_the_serial_loop_bit_for_bit(
                (weights, rows) in (1usize..40, 0usize..3000)
                    .prop_flat_map(|(cols, rows)| (vec(-4.0f32..4.0, cols), Just(rows))),
                bias in -4.0f32..4.0,
                layout in layout(),
                seed in any::<u64>(),
            ) {
                let m = Model::new(weights, bias).unwrap();
                let x = batch(rows, m.n_features(), layout, seed);
                let got = predict_rows(&m, x.view()).unwrap();
                prop_assert_eq!(got.len(), rows);
                prop_assert_eq!(bits(&got.to_vec()), bits(&serial(&m, x.view())));
            }
        }
    }
}
