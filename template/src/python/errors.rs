//! The one place where core errors become Python exceptions.

use std::io::ErrorKind;

use pyo3::PyErr;
use pyo3::exceptions::{
    PyFileNotFoundError, PyMemoryError, PyOSError, PyPermissionError, PyRuntimeError, PyValueError,
};

use crate::Error;

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let message = err.to_string();
        match err {
            // OSError(errno, strerror, filename), as the built-in open() raises
            // it: Python code can read `e.errno` and `e.filename`.
            Error::Io { path, source } => {
                // "No such file or directory (os error 2)" -> Python's strerror.
                let reason = source.to_string();
                let strerror = reason
                    .rfind(" (os error")
                    .map_or(reason.as_str(), |end| &reason[..end])
                    .to_owned();
                let args = (
                    source.raw_os_error().unwrap_or(0),
                    strerror,
                    path.to_string_lossy().into_owned(),
                );
                match source.kind() {
                    ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
                    ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
                    _ => PyOSError::new_err(args),
                }
            }
            Error::Parse { .. }
            | Error::Invalid(_)
            | Error::LengthMismatch { .. }
            | Error::ShapeMismatch { .. }
            | Error::Empty(_)
            | Error::NotFinite(_) => PyValueError::new_err(message),
            Error::OutOfMemory { .. } => PyMemoryError::new_err(message),
            Error::Threads(_) => PyRuntimeError::new_err(message),
        }
    }
}
