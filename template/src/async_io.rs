//! TODO(async_io helper)
#![cfg(feature = "async_io")]
