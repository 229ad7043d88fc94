//! A value marked sensitive at the call site.

use std::fmt;

/// Wraps a value so that it is always shown as `[REDACTED]`, whatever its field name and
/// whatever formatter prints it (`Display` and `Debug` both print the marker).
///
/// ```
/// use prodlog_redact::Sensitive;
///
/// let otp = Sensitive::new(884_213);
/// assert_eq!(format!("{otp} {otp:?}"), "[REDACTED] [REDACTED]");
/// assert_eq!(*otp.expose(), 884_213);
/// // tracing::info!(code = %Sensitive::new(code), "sent the one-time code");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Marks `value` as sensitive.
    pub const fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The value itself, for code that must use it (never for logging).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
