//! TODO(serving helper)
#![cfg(feature = "serving")]
