//! Small pieces several subsystems share: flag formatting.

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

/// Writes bytes (a file name, which need not be UTF-8) on one line:
/// printable ASCII as is, `'` and `\` escaped, other bytes as `\xNN`.
pub(crate) struct ByteStr<'a>(pub(crate) &'a [u8]);

impl fmt::Display for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for &b in self.0 {
            match b {
                b'\'' => f.write_str("\\'")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => f.write_char(char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// `Display` for a `bitflags` type: its named flags joined by `|`, unknown
/// bits in hex (see [`write_flags`]).
macro_rules! display_flags {
    ($($ty:ty),* $(,)?) => {$(
        impl core::fmt::Display for $ty {
            /// The flags by name, joined by `|` (`CLOEXEC|NONBLOCK`); unknown
            /// bits as one hex number; `0` when empty.
            // `as u64`: the bits are a `u32` or (`RWF_*`) an `i32` whose
            // flags are all positive.
            #[allow(clippy::cast_lossless)]
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                crate::shared::write_flags(
                    f,
                    self.bits() as u64,
                    <$ty as bitflags::Flags>::FLAGS
                        .iter()
                        .map(|flag| (flag.name(), flag.value().bits() as u64)),
                )
            }
        }
    )*};
}
pub(crate) use display_flags;
