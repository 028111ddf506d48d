//! The record kit: the plumbing every parser of a kernel buffer shares.
//!
//! A kernel read hands back records laid end to end: `inotify_event`,
//! `fanotify_event_metadata` and its info records, `signalfd_siginfo`, and
//! next Linux AIO's `io_event` and seccomp's `seccomp_notif`. Every parser
//! here takes the same three things from this module and keeps only what
//! is its own (its record's checks and its error kinds):
//!
//! - [`field!`]: a native-endian field of a `#[repr(C)]` ABI struct, read
//!   from the record's bytes at `offset_of!`, with the field's type taken
//!   from the struct; no offset or size is ever written by hand, and a field
//!   that does not fit in the record is a compile error.
//! - [`Cursor`]: where the walk is (`offset`, `remainder`, `is_empty`), and
//!   the rule that the first malformed record ends it ([`Cursor::stop`]):
//!   the remainder then starts at that record and the walk yields nothing
//!   more.
//! - [`until_padding`]: an inotify name in one compare of the last 16
//!   bytes of its padded field (SSE2 on `x86_64`, NEON on little-endian
//!   `aarch64`, a portable word scan elsewhere).
//!
//! # Adding a parser for fixed-size records
//! `io_event` (32 bytes) or `seccomp_notif` take four short steps; the
//! unit test `fixed_size_walk_as_the_docs_show` below compiles exactly
//! this:
//! 1. `abi.rs`: the `#[repr(C)]` struct (unless linux-raw-sys has it) and
//!    `const` size and offset assertions against the uapi header.
//! 2. The record type borrows one whole record as an array, and each
//!    accessor is one `field!`:
//!    ```ignore
//!    pub struct Completion<'buf> { raw: &'buf [u8; size_of::<io_event>()] }
//!    impl Completion<'_> {
//!        pub fn res(&self) -> i64 { field!(self.raw, io_event, res) }
//!    }
//!    ```
//! 3. [`walk!`] defines the iterator around a [`Cursor`], with what every
//!    record iterator has (`remainder`, `offset`, `as_bytes`, `is_empty`,
//!    `Debug`, `FusedIterator`):
//!    ```ignore
//!    walk! {
//!        /// The completions in a filled buffer.
//!        #[must_use = "iterate the completions"]
//!        pub struct Completions<'buf>;
//!        pub(crate) const EMPTY;
//!    }
//!    ```
//! 4. Its `next` lets [`Cursor::next_fixed`] cut the records; a trailing
//!    partial record comes back once, as [`Truncated`] (its offset and
//!    length, which the module's `ParseError` takes with a `From`), and
//!    ends the walk:
//!    ```ignore
//!    fn next(&mut self) -> Option<Result<Completion<'buf>, ParseError>> {
//!        let record = self.cursor.next_fixed()?;
//!        Some(record.map(|raw| Completion { raw }).map_err(ParseError::from))
//!    }
//!    ```
//!
//! Variable-length records (inotify, fanotify) use [`Cursor::head`] for the
//! fixed header, check their length field, then [`Cursor::advance`] past a
//! whole record or [`Cursor::stop`] at a bad one; [`parse_errors!`] defines
//! their `EventError` and `ParseError`.
//!
//! Nothing here allocates, panics or reads out of bounds; any `&[u8]` is
//! valid input, at any alignment.
//!
//! # Cost
//! The field reads and the cursor steps the hot loops take are
//! `#[inline(always)]`: with plain `#[inline]`, LLVM leaves some out of
//! line and `benches/callgrind.sh` counts 46.5 instead of 34.5
//! instructions per inotify event (`benches/fanotify-callgrind.sh`: 140
//! instead of 128 in FID mode, 69 instead of 57 in fd mode).
//!
//! A user's program (another crate, the default release profile, with or
//! without LTO) inlines less than the crate's own benches: there the
//! parsers' per-event `next`, fanotify's `OwnedEvents::next`,
//! `Infos::next`, `Event::fid` and the FID decoding stayed out of line and
//! cost 324 instead of 168 instructions per FID event and 159 instead of 92
//! per fd event, so they are `#[inline(always)]` too. Error paths stay out
//! of line (`#[cold] #[inline(never)]`), as does answering a permission
//! event on drop. `benches/peers/callgrind.sh` measures that build, shape
//! by shape; removing one of these attributes shows up there.
//!
//! What else that build taught (each step measured there):
//! - Nothing on the per-event path passes `&mut self` (or any address of
//!   the caller's iterator or event) to a function left out of line: the
//!   caller's loop then keeps the iterator in memory and reloads it after
//!   every call in the loop (fanotify's `close`). Cold paths take values
//!   (`answer_default`, `OwnedEvents::close_rest`), and error paths that
//!   must update the iterator do it in line after a call to [`cold`].
//! - An owned fanotify event is its record plus the few bits it gave up
//!   (fd or pidfd taken, answered), not `Option<OwnedFd>`s: building one
//!   costs nothing, and its drop is a test and a `close` (fd mode went from
//!   92 to about 45 instructions per event).
//! - The kernel's common record is tested as one word (fanotify's version,
//!   reserved byte and metadata length; a single FID record spanning the
//!   info region), with the field-by-field checks, which name what is
//!   wrong, out of line for anything else.
//! - An inotify name is found with one 16-byte compare of its field's last
//!   16 bytes ([`until_padding`]), for any length, and no per-event check
//!   of the field's last byte: 29.3 instructions per event with names,
//!   under the C `strlen` loop (30.1–38.3) on every length.
//! - A fanotify event remembers that its info region is one FID record
//!   checked whole (a spare value of its pidfd word), so `fid()` decodes it
//!   without checking it again; a name is found with one word test of its
//!   field's last 4 bytes (the kernel pads to 4). The walk for any other
//!   region hands back only the record (two words), and is in line: a
//!   call left out of line on the `fid()` path made the compiler keep the
//!   event in memory, stored for every event (113 instead of 98
//!   instructions per FID event). The error kinds are `repr(u64)` for the
//!   same reason (see `fanotify/error.rs`).
//!
//! The name scan's vector paths against the portable one, on one synthetic
//! buffer of kernel-shaped events (`benches/aarch64-scan.sh`, instructions
//! per event of `parse`): `aarch64` 30.0 with NEON, 42.0 portable
//! (qemu); `x86_64` 28.0 with SSE2, 47.0 portable (callgrind). `--cfg
//! kernfd_portable_scan` (in `RUSTFLAGS`) takes the portable scan on every
//! target, to measure or test it.

use core::fmt;

/// Reads field `path` of the `#[repr(C)]` struct `S` from `record`, a
/// `&[u8; N]` holding (at least the start of) one `S`, in native byte order.
///
/// `field!(header, inotify_event, len)` is a `u32` read at
/// `offset_of!(inotify_event, len)`. Nested fields work
/// (`field!(head, fanotify_event_info_fid_handle, handle.handle_bytes)`). The type comes from the
/// struct, the offset from `offset_of!`, and a field that does not lie
/// inside the `N` bytes fails to compile; with the offset and length known
/// at compile time the read is one load.
macro_rules! field {
    ($record:expr, $struct:ty, $($field:ident).+) => {
        $crate::record::At::<{ ::core::mem::offset_of!($struct, $($field).+) }>::read(
            $record,
            |s: &$struct| s.$($field).+,
        )
    };
}
pub(crate) use field;

/// What [`field!`] expands to: byte offset `AT` of a record.
#[doc(hidden)]
pub(crate) struct At<const AT: usize>;

impl<const AT: usize> At<AT> {
    /// `T` at byte `AT` of `record`. `_field` only names `T` (the closure is
    /// never called).
    #[allow(clippy::inline_always)] // measured: see the module docs
    #[inline(always)]
    pub(crate) fn read<const N: usize, T: NativeEndian, S>(
        record: &[u8; N],
        _field: impl FnOnce(&S) -> T,
    ) -> T {
        const { assert!(AT + size_of::<T>() <= N, "the field lies past the record") };
        T::read(record, AT)
    }
}

/// A plain integer (or array of them) that [`field!`] can read.
pub(crate) trait NativeEndian: Copy {
    /// `Self` from the bytes at `at` (the caller checked they are there).
    fn read(bytes: &[u8], at: usize) -> Self;
}

macro_rules! native_endian {
    ($($ty:ty)*) => {$(
        impl NativeEndian for $ty {
            #[allow(clippy::inline_always)] // measured: see the module docs
            #[inline(always)]
            fn read(bytes: &[u8], at: usize) -> Self {
                // `read_at` checked at compile time that the bytes are there,
                // so the fallback is never taken (and compiled away).
                bytes
                    .get(at..)
                    .and_then(<[u8]>::first_chunk)
                    .map_or(0, |b| <$ty>::from_ne_bytes(*b))
            }
        }
    )*};
}
native_endian!(u8 u16 u32 u64 i32 i64);

/// Arrays of them, element by element: `__kernel_fsid_t`'s `val[2]`,
/// `seccomp_data`'s `args[6]`.
impl<T: NativeEndian + Default, const K: usize> NativeEndian for [T; K] {
    #[inline]
    fn read(bytes: &[u8], at: usize) -> Self {
        let mut out = [T::default(); K];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = T::read(bytes, at + i * size_of::<T>());
        }
        out
    }
}

/// Defines a record iterator: the struct (with the doc and attributes
/// given) around a `cursor: Cursor<'buf>`, its `EMPTY` constant (with the
/// visibility given), and what every record iterator has, forwarded to the
/// cursor: `remainder`, `offset`, `as_bytes`, `is_empty`, `FusedIterator`
/// and a `Debug` that shows `Name { bytes, offset, failed }` (not the
/// cursor's layout). The module writes `Iterator` (its `next` and
/// `size_hint`).
macro_rules! walk {
    ($(#[$attr:meta])* pub struct $iter:ident<'buf>; $vis:vis const EMPTY;) => {
        $(#[$attr])*
        #[derive(Clone)]
        pub struct $iter<'buf> {
            cursor: $crate::record::Cursor<'buf>,
        }

        impl<'buf> $iter<'buf> {
            /// An iterator over nothing.
            $vis const EMPTY: $iter<'static> = $iter {
                cursor: $crate::record::Cursor::EMPTY,
            };

            /// The bytes not consumed yet: empty once every record was
            /// yielded, the failing record onward after a malformed one.
            #[must_use]
            pub fn remainder(&self) -> &'buf [u8] {
                self.cursor.remainder()
            }

            /// How many bytes were consumed so far.
            #[must_use]
            pub fn offset(&self) -> usize {
                self.cursor.offset()
            }

            /// All the bytes this iterator walks, consumed or not.
            #[must_use]
            pub fn as_bytes(&self) -> &'buf [u8] {
                self.cursor.as_bytes()
            }

            /// Whether nothing is left to yield.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.cursor.is_empty()
            }
        }

        impl ::core::fmt::Debug for $iter<'_> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                self.cursor.debug_as(stringify!($iter), f)
            }
        }

        impl ::core::iter::FusedIterator for $iter<'_> {}
    };
}
pub(crate) use walk;

/// The error types of a parser whose kernel reports queue overflow as a
/// record (inotify, fanotify), the same in each module:
/// - `EventError`, what `Events` yields besides events: `QueueOverflow`
///   (documented by the attributes given; iteration goes on) or
///   `Malformed(ParseError)` (iteration ends);
/// - `ParseError`: the failing record's offset and the module's own
///   `ParseErrorKind`, whose `Display` the module writes.
macro_rules! parse_errors {
    ($(#[$overflow:meta])* QueueOverflow => $message:literal) => {
        /// What an [`Events`](super::Events) iterator yields besides events.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventError {
            $(#[$overflow])*
            QueueOverflow,
            /// A record is malformed (see [`ParseErrorKind`]); iteration
            /// ends.
            Malformed(ParseError),
        }

        impl ::core::fmt::Display for EventError {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    Self::QueueOverflow => f.write_str($message),
                    Self::Malformed(e) => ::core::fmt::Display::fmt(e, f),
                }
            }
        }

        impl EventError {
            /// Stops `cursor` at the record it is on, which is malformed
            /// (`kind`): the error iteration ends with.
            #[inline]
            pub(crate) fn stop(cursor: &mut $crate::record::Cursor<'_>, kind: ParseErrorKind) -> Self {
                Self::Malformed(ParseError {
                    offset: cursor.stop(),
                    kind,
                })
            }
        }

        impl ::core::error::Error for EventError {
            fn source(&self) -> Option<&(dyn ::core::error::Error + 'static)> {
                match self {
                    Self::QueueOverflow => None,
                    Self::Malformed(e) => Some(e),
                }
            }
        }

        /// Why a record could not be parsed, and where.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct ParseError {
            pub(super) offset: usize,
            pub(super) kind: ParseErrorKind,
        }

        impl ParseError {
            /// Byte offset of the record that failed, from the start of the
            /// input.
            #[must_use]
            pub fn offset(&self) -> usize {
                self.offset
            }

            /// What was wrong with it.
            #[must_use]
            pub fn kind(&self) -> ParseErrorKind {
                self.kind
            }
        }

        impl ::core::error::Error for ParseError {}
    };
}
pub(crate) use parse_errors;

/// For the naive reference twins (unit tests and fuzz targets): keeps a
/// walk's error, and panics on a second one (the first ends the walk).
#[cfg(any(test, fuzzing))]
pub(crate) fn only_error<E>(slot: &mut Option<E>, error: E) {
    assert!(slot.is_none(), "only one error, then the end");
    *slot = Some(error);
}

/// For the naive reference twins: panics unless a walk over `bytes` that
/// ended with `error` (its offset and kind) and at `offset` with
/// `remainder` stopped where the naive parser did (`stop`), for the same
/// reason (`why`).
#[cfg(any(test, fuzzing))]
pub(crate) fn assert_same_stop<K: PartialEq + fmt::Debug>(
    bytes: &[u8],
    (offset, remainder): (usize, &[u8]),
    error: Option<(usize, K)>,
    (stop, why): (usize, Option<K>),
) {
    let (at, kind) = error.map_or((None, None), |(at, kind)| (Some(at), Some(kind)));
    assert_eq!(kind, why);
    assert!(at.is_none_or(|at| at == stop), "{at:?} != {stop}");
    assert_eq!(offset, stop);
    assert_eq!(remainder, bytes.get(stop..).unwrap_or_default());
}

/// A trailing record too short to be whole, from [`Cursor::next_fixed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Truncated {
    /// Where it starts, from the start of the input.
    pub(crate) offset: usize,
    /// How many bytes it has.
    pub(crate) available: usize,
}

/// A record's fixed header and the bytes after it, from [`Cursor::head`].
pub(crate) type Head<'buf, const N: usize> = (&'buf [u8; N], &'buf [u8]);

/// Where a walk over records is: the input, what is left of it, and where
/// a malformed record stopped it.
///
/// The rule every parser follows: a whole record is consumed with
/// [`advance`](Self::advance); the first one that is not ends the walk
/// with [`stop`](Self::stop), after which [`rest`](Self::rest) is empty
/// (so the parser yields nothing more, with no extra test on the hot path)
/// and [`remainder`](Self::remainder) starts at the bad record.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'buf> {
    bytes: &'buf [u8],
    /// The bytes not yet consumed; emptied by `stop`.
    rest: &'buf [u8],
    /// Where `stop` ended the walk.
    stopped: Option<usize>,
}

impl<'buf> Cursor<'buf> {
    /// A walk over nothing.
    pub(crate) const EMPTY: Cursor<'static> = Cursor::new(&[]);

    /// A walk over `bytes`, from the start.
    #[inline]
    pub(crate) const fn new(bytes: &'buf [u8]) -> Self {
        Self {
            bytes,
            rest: bytes,
            stopped: None,
        }
    }

    /// The bytes the walk has left: empty at the end and after a stop.
    #[allow(clippy::inline_always)] // measured: see the module docs
    #[inline(always)]
    pub(crate) fn rest(&self) -> &'buf [u8] {
        self.rest
    }

    /// The next record's first `N` bytes (its fixed header) and the bytes
    /// after them: `None` at the end, `Some(Err(available))` when fewer
    /// than `N` bytes are left. Consumes nothing.
    #[allow(clippy::inline_always)] // measured: see the module docs
    #[inline(always)]
    pub(crate) fn head<const N: usize>(&self) -> Option<Result<Head<'buf, N>, usize>> {
        match self.rest.split_first_chunk::<N>() {
            Some(split) => Some(Ok(split)),
            None if self.rest.is_empty() => None,
            None => Some(Err(self.rest.len())),
        }
    }

    /// Consumes a whole record: the walk goes on at `tail`, which must be
    /// what [`rest`](Self::rest) holds after that record.
    #[allow(clippy::inline_always)] // measured: see the module docs
    #[inline(always)]
    pub(crate) fn advance(&mut self, tail: &'buf [u8]) {
        debug_assert!(tail.len() <= self.rest.len());
        self.rest = tail;
    }

    /// Ends the walk at the record that starts [`rest`](Self::rest), which
    /// is malformed; returns its offset, for the parser's error.
    #[inline]
    pub(crate) fn stop(&mut self) -> usize {
        let offset = self.bytes.len() - self.rest.len();
        self.stopped = Some(offset);
        self.rest = &[];
        offset
    }

    /// The next `N`-byte record of a walk over fixed-size records: `None`
    /// at the end; a trailing partial record stops the walk and comes back
    /// once as `Err`.
    #[inline]
    pub(crate) fn next_fixed<const N: usize>(
        &mut self,
    ) -> Option<Result<&'buf [u8; N], Truncated>> {
        match self.rest.split_first_chunk::<N>() {
            Some((record, tail)) => {
                self.rest = tail;
                Some(Ok(record))
            }
            None if self.rest.is_empty() => None,
            None => {
                let available = self.rest.len();
                Some(Err(Truncated {
                    offset: self.stop(),
                    available,
                }))
            }
        }
    }

    /// An iterator's `size_hint` when no record is shorter than `min_len`.
    #[inline]
    pub(crate) fn size_hint(&self, min_len: usize) -> (usize, Option<usize>) {
        (0, Some(self.rest.len().div_ceil(min_len)))
    }

    /// All the bytes walked, consumed or not.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &'buf [u8] {
        self.bytes
    }

    /// How many bytes were consumed (up to the failing record after a stop).
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        match self.stopped {
            Some(at) => at,
            None => self.bytes.len() - self.rest.len(),
        }
    }

    /// The bytes not consumed: empty once every record was taken, the
    /// failing record onward after a stop.
    #[inline]
    pub(crate) fn remainder(&self) -> &'buf [u8] {
        match self.stopped {
            Some(at) => self.bytes.get(at..).unwrap_or_default(),
            None => self.rest,
        }
    }

    /// Whether the walk has nothing left to yield.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The `Debug` of an iterator over records: `name { bytes, offset,
    /// failed }`, whatever the cursor's own layout.
    pub(crate) fn debug_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("bytes", &self.bytes)
            .field("offset", &self.offset())
            .field("failed", &self.stopped.is_some())
            .finish()
    }
}

/// Marks the branch that calls it as unlikely (an error path), without
/// taking the address of anything: an out-of-line error function that
/// takes `&mut self` of an iterator makes the compiler keep the iterator in
/// memory, loaded and stored on every record.
#[cold]
#[inline(never)]
pub(crate) fn cold() {}

/// The name in an inotify name field: the bytes before its NUL padding.
///
/// The kernel rounds `len` up to a multiple of 16 past the name's NUL, so
/// it ends every name with 1 to 16 NULs: the name's end, its first NUL, is
/// always in the field's last 16 bytes. One 16-byte compare of those
/// ([`nul_mask`]) finds it, whatever the field's length: no loop, no
/// branch on the length, and no look at the bytes before.
///
/// That is the whole rule, for any bytes: the first NUL of the last 16
/// bytes ends the name (the whole field if they hold none). A NUL earlier
/// in the field, which the kernel never writes, is part of the returned
/// bytes. A field shorter than 16 bytes (never the kernel's) ends at its
/// first NUL.
#[allow(clippy::inline_always)] // measured: see the module docs
#[inline(always)]
pub(crate) fn until_padding(field: &[u8]) -> &[u8] {
    match field.split_last_chunk::<16>() {
        Some((before, last)) => {
            // The name ends `pad` bytes before the field does: 1 to 16 for
            // the kernel's fields, 0 when the last 16 bytes hold no NUL.
            let pad = 16 - end_of_1(last);
            field.get(..field.len() - pad).unwrap_or(before)
        }
        // Shorter than 16 bytes (never the kernel's, which pads to 16):
        // byte by byte, in line, so the caller's loop makes no call.
        None => match field.iter().position(|&b| b == 0) {
            Some(end) => field.get(..end).unwrap_or(field),
            None => field,
        },
    }
}

/// Where the first NUL of a 16-byte block is, 16 if none: the mask with a
/// sentinel bit at 16. (Not `u16::trailing_zeros`, whose zero case cost 3
/// instructions more per inotify event, measured in `benches/peers`.)
#[cfg(not(all(
    target_arch = "aarch64",
    target_endian = "little",
    not(kernfd_portable_scan)
)))]
#[inline]
fn end_of_1(block: &[u8; 16]) -> usize {
    (u32::from(nul_mask(block)) | 1 << 16).trailing_zeros() as usize
}

/// Where the first NUL of a 16-byte block is, 16 if none (a mask with no
/// bit set has 64 trailing zeros).
#[cfg(all(
    target_arch = "aarch64",
    target_endian = "little",
    not(kernfd_portable_scan)
))]
#[inline]
fn end_of_1(block: &[u8; 16]) -> usize {
    (nul_mask(block).trailing_zeros() / MASK_BITS) as usize
}

/// How many bits [`nul_mask`] gives each byte: 1 (SSE2, portable) or 4
/// (NEON).
#[cfg(all(
    test,
    not(all(
        target_arch = "aarch64",
        target_endian = "little",
        not(kernfd_portable_scan)
    ))
))]
const MASK_BITS: u32 = 1;

/// How many bits [`nul_mask`] gives each byte: 1 (SSE2, portable) or 4
/// (NEON).
#[cfg(all(
    target_arch = "aarch64",
    target_endian = "little",
    not(kernfd_portable_scan)
))]
const MASK_BITS: u32 = 4;

/// The NUL bytes of a 16-byte block: bit `i` is set when byte `i` is 0.
///
/// `x86_64`: one SSE2 compare of all 16 bytes (SSE2 is part of the `x86_64`
/// baseline, so no runtime detection).
#[cfg(all(target_arch = "x86_64", not(kernfd_portable_scan)))]
#[inline]
fn nul_mask(block: &[u8; 16]) -> u16 {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_setzero_si128,
    };
    // SAFETY: SSE2 is enabled on every x86_64 target, so the intrinsics are
    // available. `_mm_loadu_si128` reads exactly the 16 bytes `block`
    // borrows and has no alignment requirement.
    let zeros = unsafe {
        _mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128(block.as_ptr().cast()),
            _mm_setzero_si128(),
        ))
    };
    // `movemask` sets only the low 16 bits.
    zeros as u16
}

/// The NUL bytes of a 16-byte block: bits `4i..4i + 4` are all set when
/// byte `i` is 0, all clear otherwise.
///
/// `aarch64` (little-endian): one NEON compare of all 16 bytes, then one
/// narrowing shift to a `u64` (NEON has no `movemask`; NEON is part of the
/// `aarch64` baseline, so no runtime detection).
#[cfg(all(
    target_arch = "aarch64",
    target_endian = "little",
    not(kernfd_portable_scan)
))]
#[inline]
fn nul_mask(block: &[u8; 16]) -> u64 {
    use core::arch::aarch64::{
        vceqzq_u8, vget_lane_u64, vld1q_u8, vreinterpret_u64_u8, vreinterpretq_u16_u8, vshrn_n_u16,
    };
    // SAFETY: NEON is enabled on every aarch64 target, so the intrinsics
    // are available. `vld1q_u8` reads exactly the 16 bytes `block` borrows
    // and has no alignment requirement; the rest only moves registers.
    unsafe {
        // 0xff where the byte is 0, 0x00 elsewhere.
        let zeros = vceqzq_u8(vld1q_u8(block.as_ptr()));
        // As eight 16-bit lanes (bytes 2k and 2k + 1, little-endian),
        // shifted right by 4 and narrowed to their low 8 bits: the high
        // nibble of byte 2k and the low nibble of byte 2k + 1, so byte `i`
        // lands on bits `4i..4i + 4`.
        let nibbles = vshrn_n_u16::<4>(vreinterpretq_u16_u8(zeros));
        vget_lane_u64::<0>(vreinterpret_u64_u8(nibbles))
    }
}

/// The NUL bytes of a 16-byte block: bit `i` is set when byte `i` is 0.
///
/// Elsewhere (or with `--cfg kernfd_portable_scan`): [`nul_mask_swar`].
#[cfg(not(any(
    all(target_arch = "x86_64", not(kernfd_portable_scan)),
    all(
        target_arch = "aarch64",
        target_endian = "little",
        not(kernfd_portable_scan)
    )
)))]
#[inline]
fn nul_mask(block: &[u8; 16]) -> u16 {
    nul_mask_swar(block)
}

/// The NUL bytes of a 16-byte block, portably: two 8-byte words. (Also compiled for the tests on `x86_64` and
/// `aarch64`, which check it against the SSE2 and NEON versions.)
#[cfg(any(
    test,
    not(any(
        all(target_arch = "x86_64", not(kernfd_portable_scan)),
        all(
            target_arch = "aarch64",
            target_endian = "little",
            not(kernfd_portable_scan)
        )
    ))
))]
#[inline]
fn nul_mask_swar(block: &[u8; 16]) -> u16 {
    /// The NUL bytes of a little-endian 8-byte word: bit `i` is set
    /// exactly when byte `i` is 0.
    #[inline]
    fn word_nul_mask(x: u64) -> u8 {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        // Bit 7 of each byte is set exactly when that byte is 0 (no carry
        // crosses bytes: each byte's low 7 bits + 0x7f <= 0xfe).
        let zero = !(((x & LOW7) + LOW7) | x | LOW7);
        // Gather the eight bit-7 flags into the top byte, byte i -> bit i: the
        // products of the flag at 8i and the constant's bit 7j + 7 land on
        // distinct bits (so no carries), those with i + j = 7 on 56 + i.
        ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
    }

    let (lo, hi) = block.split_at(8);
    let word = |half: &[u8]| {
        half.first_chunk::<8>()
            .map_or(0, |w| u16::from(word_nul_mask(u64::from_le_bytes(*w))))
    };
    word(lo) | (word(hi) << 8)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn nul_mask_swar_agrees_with_bytes() {
        let naive = |b: &[u8; 16]| (0..16).fold(0_u16, |m, i| m | (u16::from(b[i] == 0) << i));
        let mut x: u32 = 0x1234_5678;
        for round in 0..2000 {
            let mut b = [0_u8; 16];
            for (i, byte) in b.iter_mut().enumerate() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Mostly non-zero bytes, some zeros, some 0x80 and 0x01 (the
                // values that trip naive has-zero tricks).
                *byte = match (x >> 8) % 8 {
                    0 => 0,
                    1 => 0x80,
                    2 => 0x01,
                    _ => (x as u8) | u8::from(i == round % 16),
                };
            }
            assert_eq!(nul_mask_swar(&b), naive(&b), "{b:?}");
            assert_eq!(one_bit_per_byte(nul_mask(&b)), naive(&b), "{b:?}");
        }
        assert_eq!(nul_mask_swar(&[0; 16]), 0xffff);
        assert_eq!(nul_mask_swar(&[0xff; 16]), 0);
    }

    /// `nul_mask`'s result with one bit per byte, as the portable twin
    /// gives it; panics unless each byte's `MASK_BITS` bits are all set or
    /// all clear.
    fn one_bit_per_byte(mask: impl Into<u64>) -> u16 {
        let mask: u64 = mask.into();
        let group = (1_u64 << MASK_BITS) - 1;
        (0..16).fold(0, |bits, i| {
            let byte = (mask >> (i * MASK_BITS)) & group;
            assert!(byte == 0 || byte == group, "{mask:#x}: byte {i}");
            bits | u16::from(byte == group) << i
        })
    }

    /// A xorshift generator: the same bytes on every target and run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// A byte that is never 0: mostly any value, often the ones that
        /// trip has-zero tricks (0x01, 0x80, 0x7f, 0xff).
        fn non_zero(&mut self) -> u8 {
            let x = self.next();
            match x % 8 {
                0 => 0x01,
                1 => 0x80,
                2 => 0x7f,
                3 => 0xff,
                _ => ((x >> 8) as u8).max(1),
            }
        }
    }

    /// The safe twins of the fast scans, byte by byte.
    fn twin_first_nul(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| b == 0)
    }
    /// `until_padding`'s rule: the first NUL of the last 16 bytes ends
    /// the name (the whole field if none); shorter fields, the first NUL.
    fn twin_until_padding(bytes: &[u8]) -> &[u8] {
        let from = bytes.len().saturating_sub(16);
        twin_first_nul(&bytes[from..]).map_or(bytes, |end| &bytes[..from + end])
    }

    /// Checks every scan of `bytes` against the twins: `until_padding`,
    /// and `nul_mask` (and its portable twin) on each whole 16-byte block.
    fn assert_scans_agree(bytes: &[u8]) {
        assert_eq!(until_padding(bytes), twin_until_padding(bytes), "{bytes:?}");
        for block in bytes.chunks_exact(16) {
            let block: &[u8; 16] = block.try_into().unwrap();
            let naive = (0..16).fold(0_u16, |m, i| m | (u16::from(block[i] == 0) << i));
            assert_eq!(one_bit_per_byte(nul_mask(block)), naive, "{block:?}");
            assert_eq!(nul_mask_swar(block), naive, "{block:?}");
        }
    }

    #[test]
    fn scans_agree_with_twins_for_every_nul_and_length() {
        // Every length 0..=64 (the kernel's 16, 32 and 48 and all others),
        // no NUL or the first NUL at every position, random non-zero bytes
        // elsewhere and sometimes more NULs after the first; each at four
        // alignments. (Miri, which checks the loads rather than the
        // results, takes the lengths around each block boundary, once.)
        let rounds = if cfg!(miri) { 1 } else { 8 };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut storage = [0_u8; 64 + 3];
        for len in (0..=64).filter(|len| !cfg!(miri) || matches!(len % 16, 0 | 1 | 15)) {
            for nul in 0..=len {
                for round in 0..rounds {
                    let bytes = &mut storage[round % 4..][..len];
                    for b in bytes.iter_mut() {
                        *b = rng.non_zero();
                    }
                    if nul < len {
                        bytes[nul] = 0;
                        if round % 2 == 1 {
                            let later = nul + (rng.next() as usize) % (len - nul);
                            bytes[later] = 0;
                        }
                    }
                    assert_scans_agree(bytes);
                }
            }
        }
    }

    #[test]
    fn scans_agree_with_twins_on_random_buffers() {
        // Random lengths up to 300 at random alignments, with NULs from
        // dense (one byte in 2) to absent, and whole random blocks.
        let cases = if cfg!(miri) { 40 } else { 20_000 };
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut storage = [0_u8; 300 + 16];
        for _ in 0..cases {
            let start = (rng.next() % 16) as usize;
            let len = (rng.next() % 301) as usize;
            let one_in = [2, 16, 64, 1024, u64::MAX][(rng.next() % 5) as usize];
            let bytes = &mut storage[start..start + len];
            for b in bytes.iter_mut() {
                *b = if rng.next() % one_in == 0 {
                    0
                } else {
                    rng.non_zero()
                };
            }
            assert_scans_agree(bytes);
        }
    }

    #[test]
    fn until_padding_ends_at_the_first_nul_of_the_last_16_bytes() {
        // Every field length up to 80, with no NUL, and with a NUL at every
        // position (and another one 3 bytes later).
        for len in 0..=80_usize {
            let field: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert_eq!(until_padding(&field), &field[..]);
            for nul in 0..len {
                let mut f = field.clone();
                f[nul] = 0;
                if nul + 3 < len {
                    f[nul + 3] = 0;
                }
                // The naive rule: the first NUL at or after `len - 16`
                // (at or after 0 for short fields).
                let from = len.saturating_sub(16);
                let want = f[from..]
                    .iter()
                    .position(|&b| b == 0)
                    .map_or(len, |i| from + i);
                assert_eq!(until_padding(&f), &f[..want], "len {len}, NUL at {nul}");
            }
        }
    }

    #[test]
    fn until_padding_finds_every_kernel_name() {
        // What the kernel writes: a name of 0..=255 bytes, NUL-padded to
        // `roundup(name + 1, 16)`.
        for name_len in 1..=255_usize {
            let len = (name_len + 1).div_ceil(16) * 16;
            let mut field = std::vec![0_u8; len];
            for (i, b) in field.iter_mut().take(name_len).enumerate() {
                *b = 1 + (i % 255) as u8;
            }
            assert_eq!(until_padding(&field).len(), name_len);
        }
    }

    #[test]
    fn field_reads_at_the_struct_offsets() {
        #[repr(C)]
        struct Abi {
            a: u8,
            b: u16,
            c: u32,
            d: u64,
            e: [i32; 2],
            inner: Inner,
        }
        #[repr(C)]
        struct Inner {
            x: i64,
        }
        let raw: [u8; size_of::<Abi>()] = core::array::from_fn(|i| i as u8);
        let ne = |at: usize, n: usize| {
            let mut w = [0_u8; 8];
            w[..n].copy_from_slice(&raw[at..at + n]);
            if cfg!(target_endian = "big") {
                w[..n].reverse();
            }
            u64::from_le_bytes(w)
        };
        assert_eq!(field!(&raw, Abi, a), raw[0]);
        assert_eq!(u64::from(field!(&raw, Abi, b)), ne(2, 2));
        assert_eq!(u64::from(field!(&raw, Abi, c)), ne(4, 4));
        assert_eq!(field!(&raw, Abi, d), ne(8, 8));
        let e = field!(&raw, Abi, e);
        assert_eq!(
            [
                u64::from(e[0].cast_unsigned()),
                u64::from(e[1].cast_unsigned())
            ],
            [ne(16, 4), ne(20, 4)]
        );
        let x = field!(&raw, Abi, inner.x);
        assert_eq!(u64::from_ne_bytes(x.to_ne_bytes()), ne(24, 8));
    }

    #[test]
    fn cursor_stops_at_the_first_bad_record() {
        let bytes = [1_u8, 2, 3, 4, 5, 6, 7];
        let mut c = Cursor::new(&bytes);
        let Some(Ok((h, after))) = c.head::<2>() else {
            panic!("a head")
        };
        assert_eq!((h, after), (&[1, 2], &bytes[2..]));
        c.advance(&bytes[2..]);
        assert_eq!((c.offset(), c.remainder()), (2, &bytes[2..]));
        assert!(!c.is_empty());
        assert_eq!(c.stop(), 2);
        assert!(c.is_empty() && c.rest().is_empty());
        assert_eq!((c.offset(), c.remainder()), (2, &bytes[2..]));
        assert_eq!(c.head::<2>(), None);
        assert_eq!(Cursor::new(&bytes[..1]).head::<2>(), Some(Err(1)));
        assert_eq!(Cursor::EMPTY.head::<2>(), None);
    }

    /// The fixed-size walk of the module docs, for a Linux AIO `io_event`
    /// (32 bytes): what a new parser writes.
    mod aio {
        #![allow(unreachable_pub)] // `walk!` makes public methods
        use super::super::{Cursor, Truncated};

        #[repr(C)]
        #[allow(non_camel_case_types, dead_code)]
        struct io_event {
            data: u64,
            obj: u64,
            res: i64,
            res2: i64,
        }
        const _: () = assert!(size_of::<io_event>() == 32);

        pub struct Completion<'buf> {
            raw: &'buf [u8; size_of::<io_event>()],
        }
        impl Completion<'_> {
            pub(super) fn res(&self) -> i64 {
                field!(self.raw, io_event, res)
            }
        }
        #[derive(Debug, PartialEq)]
        pub struct ParseError {
            pub(super) offset: usize,
            pub(super) available: usize,
        }
        impl From<Truncated> for ParseError {
            fn from(t: Truncated) -> Self {
                Self {
                    offset: t.offset,
                    available: t.available,
                }
            }
        }
        walk! {
            pub struct Completions<'buf>;
            pub(super) const EMPTY;
        }
        impl<'buf> Completions<'buf> {
            pub(super) fn new(bytes: &'buf [u8]) -> Self {
                Self {
                    cursor: Cursor::new(bytes),
                }
            }
        }
        impl<'buf> Iterator for Completions<'buf> {
            type Item = Result<Completion<'buf>, ParseError>;
            fn next(&mut self) -> Option<Self::Item> {
                let record = self.cursor.next_fixed()?;
                Some(
                    record
                        .map(|raw| Completion { raw })
                        .map_err(ParseError::from),
                )
            }
        }
    }

    #[test]
    fn fixed_size_walk_as_the_docs_show() {
        use aio::{Completions, ParseError};
        let mut bytes = Vec::new();
        for res in [7_i64, -11] {
            bytes.extend_from_slice(&[0; 16]);
            bytes.extend_from_slice(&res.to_ne_bytes());
            bytes.extend_from_slice(&[0; 8]);
        }
        bytes.extend_from_slice(&[1, 2, 3]);
        let mut walk = Completions::new(&bytes);
        assert_eq!(walk.next().map(|c| c.map(|c| c.res())), Some(Ok(7)));
        assert_eq!(walk.next().map(|c| c.map(|c| c.res())), Some(Ok(-11)));
        assert_eq!(
            walk.next().map(|c| c.map(|c| c.res())),
            Some(Err(ParseError {
                offset: 64,
                available: 3
            }))
        );
        assert!(walk.next().is_none());
        assert_eq!(walk.remainder(), &[1, 2, 3]);
        assert_eq!(walk.as_bytes(), &bytes[..]);
        let mut empty = Completions::EMPTY;
        assert!(empty.is_empty() && empty.next().is_none());
        assert_eq!(walk.offset(), 64);
        assert!(walk.is_empty());
        let debug = std::format!("{walk:?}");
        assert!(debug.starts_with("Completions { bytes: [0, 0,"), "{debug}");
        assert!(
            debug.ends_with(", 1, 2, 3], offset: 64, failed: true }"),
            "{debug}"
        );
    }
}
