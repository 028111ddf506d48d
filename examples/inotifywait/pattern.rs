//! `--exclude[i]`/`--include[i]`: a small POSIX extended regular expression
//! matcher. A pattern compiles to a Thompson automaton that runs over the
//! text once, so matching takes time linear in the text, with no
//! backtracking and no recursion.

use crate::err;
use crate::getopt::Opts;

/// The one `--exclude`/`--include` pattern in force: events on paths it
/// matches are dropped (`--exclude`), or all others are (`--include`).
pub(crate) struct Filter {
    regex: Regex,
    include: bool,
}

impl Filter {
    /// The filter the options ask for, the last one winning as in
    /// inotifywait; `Err` once a pattern that does not compile was reported
    /// as inotifywait reports it.
    pub(crate) fn from_opts(o: &Opts) -> Result<Option<Self>, ()> {
        let mut filter = None;
        for (pat, icase, include, what) in [
            (&o.exc_regex, false, false, "exclude"),
            (&o.exc_iregex, true, false, "exclude"),
            (&o.inc_regex, false, true, "include"),
            (&o.inc_iregex, true, true, "include"),
        ] {
            if let Some(p) = pat {
                let Some(regex) = Regex::new(p, icase) else {
                    err(&[format!("Error in `{what}' regular expression.\n").as_bytes()]);
                    return Err(());
                };
                filter = Some(Self { regex, include });
            }
        }
        Ok(filter)
    }

    /// Whether an event on `path` (`%w%f`) is dropped.
    pub(crate) fn drops(&self, path: &[u8]) -> bool {
        self.regex.is_match(path) != self.include
    }
}

/// A compiled ERE: alternatives of sequences of quantified atoms.
#[derive(Debug, Clone)]
enum Node {
    Byte(u8),
    Any,
    Class(Box<[bool; 256]>),
    Start,
    End,
    Group(Vec<Vec<Piece>>),
}

#[derive(Debug, Clone)]
struct Piece {
    node: Node,
    min: usize,
    max: Option<usize>,
}

struct Regex {
    /// The automaton; `start` is where a match begins.
    states: Vec<State>,
    start: usize,
    icase: bool,
}

/// One state of the Thompson automaton a pattern compiles to.
#[derive(Debug, Clone)]
enum State {
    /// Consumes one byte that the test accepts, then goes to `next`.
    Byte(u8, usize),
    Any(usize),
    Class(Box<[bool; 256]>, usize),
    /// Goes to both, consuming nothing.
    Split(usize, usize),
    /// `^` or `$`: goes on only at the start or the end of the text.
    Start(usize),
    End(usize),
    Match,
}

/// Automata larger than this are refused, as regcomp refuses huge counts.
const MAX_STATES: usize = 100_000;

impl Regex {
    /// Compiles `pat` (ERE syntax: `. [] [^] [:class:] * + ? {m,n} | () ^ $`
    /// and `\` escapes); `None` when it is malformed, as regcomp fails.
    fn new(pat: &[u8], icase: bool) -> Option<Self> {
        let mut p = Parser {
            s: pat,
            i: 0,
            icase,
        };
        let alts = p.alternation()?;
        if p.i != pat.len() {
            return None;
        }
        let mut states = vec![State::Match];
        let start = compile_alts(&alts, 0, &mut states)?;
        Some(Self {
            states,
            start,
            icase,
        })
    }

    /// Whether the pattern matches anywhere in `text` (a `REG_NOSUB` search):
    /// the automaton runs over the text once, with a start thread added at
    /// every position, in time and memory linear in the text (no
    /// backtracking, no recursion).
    fn is_match(&self, text: &[u8]) -> bool {
        let n = self.states.len();
        let mut seen = vec![usize::MAX; n];
        let mut current: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for pos in 0..=text.len() {
            // The epsilon closure of the live states plus a new start.
            stack.clear();
            stack.append(&mut current);
            stack.push(self.start);
            while let Some(s) = stack.pop() {
                if seen[s] == pos {
                    continue;
                }
                seen[s] = pos;
                match &self.states[s] {
                    State::Match => return true,
                    State::Split(a, b) => {
                        stack.push(*b);
                        stack.push(*a);
                    }
                    State::Start(x) if pos == 0 => stack.push(*x),
                    State::End(x) if pos == text.len() => stack.push(*x),
                    State::Start(_) | State::End(_) => {}
                    _ => current.push(s),
                }
            }
            let Some(&c) = text.get(pos) else { break };
            let c = if self.icase {
                c.to_ascii_lowercase()
            } else {
                c
            };
            next.clear();
            for &s in &current {
                match &self.states[s] {
                    State::Byte(b, x) if *b == c => next.push(*x),
                    State::Any(x) => next.push(*x),
                    State::Class(set, x) if set[usize::from(c)] => next.push(*x),
                    _ => {}
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }
}

fn push(states: &mut Vec<State>, s: State) -> Option<usize> {
    if states.len() >= MAX_STATES {
        return None;
    }
    states.push(s);
    Some(states.len() - 1)
}

/// Compiles alternatives that continue at `next`; returns their start.
fn compile_alts(alts: &[Vec<Piece>], next: usize, states: &mut Vec<State>) -> Option<usize> {
    let mut start = compile_seq(&alts[0], next, states)?;
    for alt in &alts[1..] {
        let other = compile_seq(alt, next, states)?;
        start = push(states, State::Split(other, start))?;
    }
    Some(start)
}

fn compile_seq(seq: &[Piece], next: usize, states: &mut Vec<State>) -> Option<usize> {
    let mut cur = next;
    for piece in seq.iter().rev() {
        cur = compile_piece(piece, cur, states)?;
    }
    Some(cur)
}

/// `x{min,max}`: `max - min` nested optional copies (or a loop when
/// unbounded), after `min` required ones; built back to front.
fn compile_piece(piece: &Piece, next: usize, states: &mut Vec<State>) -> Option<usize> {
    let mut cur = next;
    match piece.max {
        None => {
            let split = push(states, State::Split(0, next))?;
            let body = compile_node(&piece.node, split, states)?;
            states[split] = State::Split(body, next);
            cur = split;
        }
        Some(max) => {
            for _ in piece.min..max {
                let body = compile_node(&piece.node, cur, states)?;
                cur = push(states, State::Split(body, next))?;
            }
        }
    }
    for _ in 0..piece.min {
        cur = compile_node(&piece.node, cur, states)?;
    }
    Some(cur)
}

fn compile_node(node: &Node, next: usize, states: &mut Vec<State>) -> Option<usize> {
    match node {
        Node::Byte(b) => push(states, State::Byte(*b, next)),
        Node::Any => push(states, State::Any(next)),
        Node::Class(set) => push(states, State::Class(set.clone(), next)),
        Node::Start => push(states, State::Start(next)),
        Node::End => push(states, State::End(next)),
        Node::Group(alts) => compile_alts(alts, next, states),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    icase: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn alternation(&mut self) -> Option<Vec<Vec<Piece>>> {
        let mut alts = vec![self.sequence()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            alts.push(self.sequence()?);
        }
        Some(alts)
    }

    fn sequence(&mut self) -> Option<Vec<Piece>> {
        let mut seq = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let node = self.atom()?;
            let (mut min, mut max) = (1, Some(1));
            while let Some(q) = self.peek() {
                let (lo, hi) = match q {
                    b'*' => (0, None),
                    b'+' => (1, None),
                    b'?' => (0, Some(1)),
                    b'{' => {
                        self.i += 1;
                        let (lo, hi) = self.bounds()?;
                        self.i -= 1;
                        (lo, hi)
                    }
                    _ => break,
                };
                self.i += 1;
                // Stacked quantifiers multiply; keep it simple and exact for
                // the common `x*?`-free patterns: combine bounds.
                min *= lo;
                max = match (max, hi) {
                    (Some(a), Some(b)) => Some(a * b),
                    _ => None,
                };
            }
            seq.push(Piece { node, min, max });
        }
        Some(seq)
    }

    /// After `{`: `m}`, `m,}` or `m,n}`; leaves `i` just past `}`.
    fn bounds(&mut self) -> Option<(usize, Option<usize>)> {
        let num = |p: &mut Self| -> Option<usize> {
            let start = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            std::str::from_utf8(&p.s[start..p.i]).ok()?.parse().ok()
        };
        let lo = num(self)?;
        let hi = if self.peek() == Some(b',') {
            self.i += 1;
            if self.peek() == Some(b'}') {
                None
            } else {
                Some(num(self)?)
            }
        } else {
            Some(lo)
        };
        if self.peek() != Some(b'}') || hi.is_some_and(|h| h < lo) {
            return None;
        }
        self.i += 1;
        Some((lo, hi))
    }

    fn lit(&self, c: u8) -> Node {
        Node::Byte(if self.icase {
            c.to_ascii_lowercase()
        } else {
            c
        })
    }

    fn atom(&mut self) -> Option<Node> {
        let c = self.peek()?;
        self.i += 1;
        Some(match c {
            b'.' => Node::Any,
            b'^' => Node::Start,
            b'$' => Node::End,
            b'(' => {
                let alts = self.alternation()?;
                if self.peek() != Some(b')') {
                    return None;
                }
                self.i += 1;
                Node::Group(alts)
            }
            b'\\' => {
                let e = self.peek()?;
                self.i += 1;
                self.lit(e)
            }
            b'[' => self.class()?,
            b'*' | b'+' | b'?' | b'{' => return None,
            c => self.lit(c),
        })
    }

    fn class(&mut self) -> Option<Node> {
        let mut set = Box::new([false; 256]);
        let negate = self.peek() == Some(b'^');
        if negate {
            self.i += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek()?;
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if c == b'[' && self.s.get(self.i + 1) == Some(&b':') {
                let rest = &self.s[self.i + 2..];
                let end = rest.windows(2).position(|w| w == b":]")?;
                let name = &rest[..end];
                let f: fn(&u8) -> bool = match name {
                    b"alpha" => u8::is_ascii_alphabetic,
                    b"digit" => u8::is_ascii_digit,
                    b"alnum" => u8::is_ascii_alphanumeric,
                    b"upper" => u8::is_ascii_uppercase,
                    b"lower" => u8::is_ascii_lowercase,
                    b"space" => |b: &u8| b.is_ascii_whitespace() || *b == 0x0b,
                    b"punct" => u8::is_ascii_punctuation,
                    b"xdigit" => u8::is_ascii_hexdigit,
                    b"cntrl" => u8::is_ascii_control,
                    b"print" => |b: &u8| (0x20..0x7f).contains(b),
                    b"graph" => u8::is_ascii_graphic,
                    b"blank" => |b: &u8| *b == b' ' || *b == b'\t',
                    _ => return None,
                };
                for b in 0..=255_u8 {
                    if f(&b) {
                        set[usize::from(b)] = true;
                    }
                }
                self.i += 2 + end + 2;
                continue;
            }
            self.i += 1;
            let lo = c;
            let hi = if self.peek() == Some(b'-')
                && self.s.get(self.i + 1).is_some_and(|&n| n != b']')
            {
                let h = self.s[self.i + 1];
                self.i += 2;
                h
            } else {
                lo
            };
            if hi < lo {
                return None;
            }
            for b in lo..=hi {
                set[usize::from(b)] = true;
            }
        }
        if self.icase {
            for b in b'A'..=b'Z' {
                let l = b.to_ascii_lowercase();
                let any = set[usize::from(b)] || set[usize::from(l)];
                set[usize::from(b)] = any;
                set[usize::from(l)] = any;
            }
        }
        if negate {
            for v in set.iter_mut() {
                *v = !*v;
            }
        }
        Some(Node::Class(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_basics() {
        let r = |p: &str, t: &str| {
            Regex::new(p.as_bytes(), false)
                .unwrap()
                .is_match(t.as_bytes())
        };
        assert!(r("a", "xay"));
        assert!(r("^a.c$", "abc"));
        assert!(!r("^a.c$", "abcd"));
        assert!(r("(foo|bar)+baz", "xxbarfoobaz"));
        assert!(r("\\.txt$", "d/a.txt"));
        assert!(!r("\\.txt$", "d/atxt"));
        assert!(r("[[:digit:]]{3}", "ab123"));
        assert!(!r("[[:digit:]]{3}", "ab12c"));
        assert!(r("[^a-c]", "abcd"));
        assert!(r("x*", ""));
        // The longest text a filter sees (4096 bytes), on the 2 MiB stack of
        // a test thread: the backtracking depth stays bounded.
        let long = "a/".repeat(2047);
        assert!(!r(".*x$", &long));
        assert!(r("(a/)+$", &long));
        assert!(!r("(a|a/|a)*b", &long), "no exponential blow-up");
        assert!(r("((a|/)*)*$", &long));
        assert!(
            Regex::new(b"a{99999}b{99999}", false).is_none(),
            "too large"
        );
        assert!(Regex::new(b"(a", false).is_none());
        assert!(Regex::new(b"a{2,1}", false).is_none());
        assert!(Regex::new(b"A", true).unwrap().is_match(b"xa"));
    }
}
