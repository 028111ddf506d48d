//! Small pieces several subsystems share: flag formatting and the
//! conversions of their error types.

use core::fmt;

/// Writes the named flags of `bits` joined with `|` (`CREATE|ISDIR`),
/// unknown bits as one hex number, `0` when empty. `names` lists single
/// flags in the order they print.
pub(crate) fn write_flags<'a>(
    f: &mut fmt::Formatter<'_>,
    bits: u64,
    names: impl Iterator<Item = (&'a str, u64)>,
) -> fmt::Result {
    if bits == 0 {
        return f.write_str("0");
    }
    let mut left = bits;
    let mut first = true;
    for (name, value) in names {
        if value != 0 && bits & value == value && left & value != 0 {
            if !first {
                f.write_str("|")?;
            }
            f.write_str(name)?;
            first = false;
            left &= !value;
        }
    }
    if left != 0 {
        if !first {
            f.write_str("|")?;
        }
        write!(f, "{left:#x}")?;
    }
    Ok(())
}

/// For a subsystem's `Error` enum with an `Os(Errno)` variant, an
/// `errno()` method and `From<Errno>`: implements `From<$ty> for
/// std::io::Error` (under `std`). `Os` keeps the raw OS error; the crate's
/// own variants keep their message, with the kind of their errno.
macro_rules! io_error_from {
    ($ty:ident) => {
        #[cfg(feature = "std")]
        impl From<$ty> for std::io::Error {
            fn from(e: $ty) -> Self {
                match e {
                    $ty::Os(errno) => errno.into(),
                    other => {
                        let kind = std::io::Error::from(other.errno()).kind();
                        std::io::Error::new(kind, other)
                    }
                }
            }
        }
    };
}
pub(crate) use io_error_from;
