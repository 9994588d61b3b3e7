//! TODO(distributed helper)
