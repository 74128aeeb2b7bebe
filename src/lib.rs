//! Unpublished workspace root: owns the integration tests and benchmarks.
