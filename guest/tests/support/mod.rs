//! Helpers shared by the integration tests and the fuzz targets.

pub mod fuzzing;
pub mod model;
pub mod ops;
