//! Golden model (placeholder).
