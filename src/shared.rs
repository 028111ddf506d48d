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
