//! Shared helpers for npe's cross-crate tests.
