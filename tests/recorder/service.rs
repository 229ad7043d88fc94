//! Placeholder replaced below.
pub(crate) fn child() {}
pub(crate) fn a_service_under_load_writes_exactly_the_failed_requests() {}
