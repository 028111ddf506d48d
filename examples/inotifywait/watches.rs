//! The watch table of `-r`: libinotifytools' two indexes, by wd and by
//! name, the second one its red-black tree node for node, so that renamed
//! directories get the very names inotifywait prints.

// Short names in the tree arithmetic, as in the C code this follows.
#![allow(clippy::many_single_char_names, clippy::similar_names)]

use std::collections::HashMap;

struct Watch {
    wd: i32,
    name: Vec<u8>,
}

/// One node of [`NameTree`]; index 0 is the shared black sentinel.
#[derive(Clone, Copy)]
struct RbNode {
    left: usize,
    right: usize,
    up: usize,
    red: bool,
    key: usize,
}

/// libinotifytools keeps its watches by file name in the red-black tree of
/// Damian Ivereigh's `redblack.c` (Cormen et al.'s algorithm), and renames
/// them by walking that tree while deleting and inserting nodes. The walk
/// therefore skips or revisits nodes depending on the exact shape of the
/// tree, and inotifywait's output after a directory rename depends on it
/// (some subdirectories keep their old name). To print the same names, this
/// is the same algorithm, node for node, in an arena.
struct NameTree {
    nodes: Vec<RbNode>,
    root: usize,
}

impl Default for NameTree {
    fn default() -> Self {
        let sentinel = RbNode {
            left: 0,
            right: 0,
            up: 0,
            red: false,
            key: usize::MAX,
        };
        Self {
            nodes: vec![sentinel],
            root: 0,
        }
    }
}

impl NameTree {
    fn find(&self, name: &[u8], slab: &[Watch]) -> usize {
        let mut x = self.root;
        while x != 0 {
            match name.cmp(&slab[self.nodes[x].key].name) {
                std::cmp::Ordering::Less => x = self.nodes[x].left,
                std::cmp::Ordering::Greater => x = self.nodes[x].right,
                std::cmp::Ordering::Equal => return x,
            }
        }
        0
    }

    fn rotate_left(&mut self, x: usize) {
        let y = self.nodes[x].right;
        self.nodes[x].right = self.nodes[y].left;
        if self.nodes[y].left != 0 {
            let l = self.nodes[y].left;
            self.nodes[l].up = x;
        }
        self.nodes[y].up = self.nodes[x].up;
        let xu = self.nodes[x].up;
        if xu == 0 {
            self.root = y;
        } else if x == self.nodes[xu].left {
            self.nodes[xu].left = y;
        } else {
            self.nodes[xu].right = y;
        }
        self.nodes[y].left = x;
        self.nodes[x].up = y;
    }

    fn rotate_right(&mut self, y: usize) {
        let x = self.nodes[y].left;
        self.nodes[y].left = self.nodes[x].right;
        if self.nodes[x].right != 0 {
            let r = self.nodes[x].right;
            self.nodes[r].up = y;
        }
        self.nodes[x].up = self.nodes[y].up;
        let yu = self.nodes[y].up;
        if yu == 0 {
            self.root = x;
        } else if y == self.nodes[yu].left {
            self.nodes[yu].left = x;
        } else {
            self.nodes[yu].right = x;
        }
        self.nodes[x].right = y;
        self.nodes[y].up = x;
    }

    /// `rbsearch`: inserts `key` unless its name is there already.
    fn insert(&mut self, key: usize, slab: &[Watch]) {
        let name = &slab[key].name;
        let (mut y, mut x) = (0, self.root);
        let mut less = false;
        while x != 0 {
            y = x;
            match name.cmp(&slab[self.nodes[x].key].name) {
                std::cmp::Ordering::Less => {
                    less = true;
                    x = self.nodes[x].left;
                }
                std::cmp::Ordering::Greater => {
                    less = false;
                    x = self.nodes[x].right;
                }
                std::cmp::Ordering::Equal => return,
            }
        }
        let z = self.nodes.len();
        self.nodes.push(RbNode {
            left: 0,
            right: 0,
            up: y,
            red: true,
            key,
        });
        if y == 0 {
            self.root = z;
        } else if less {
            self.nodes[y].left = z;
        } else {
            self.nodes[y].right = z;
        }
        let mut x = z;
        while x != self.root && self.nodes[self.nodes[x].up].red {
            let p = self.nodes[x].up;
            let g = self.nodes[p].up;
            if p == self.nodes[g].left {
                let u = self.nodes[g].right;
                if self.nodes[u].red {
                    self.nodes[p].red = false;
                    self.nodes[u].red = false;
                    self.nodes[g].red = true;
                    x = g;
                } else {
                    if x == self.nodes[p].right {
                        x = p;
                        self.rotate_left(x);
                    }
                    let p = self.nodes[x].up;
                    let g = self.nodes[p].up;
                    self.nodes[p].red = false;
                    self.nodes[g].red = true;
                    self.rotate_right(g);
                }
            } else {
                let u = self.nodes[g].left;
                if self.nodes[u].red {
                    self.nodes[p].red = false;
                    self.nodes[u].red = false;
                    self.nodes[g].red = true;
                    x = g;
                } else {
                    if x == self.nodes[p].left {
                        x = p;
                        self.rotate_right(x);
                    }
                    let p = self.nodes[x].up;
                    let g = self.nodes[p].up;
                    self.nodes[p].red = false;
                    self.nodes[g].red = true;
                    self.rotate_left(g);
                }
            }
        }
        let r = self.root;
        self.nodes[r].red = false;
    }

    fn successor(&self, mut x: usize) -> usize {
        if self.nodes[x].right != 0 {
            let mut y = self.nodes[x].right;
            while self.nodes[y].left != 0 {
                y = self.nodes[y].left;
            }
            return y;
        }
        let mut y = self.nodes[x].up;
        while y != 0 && x == self.nodes[y].right {
            x = y;
            y = self.nodes[y].up;
        }
        y
    }

    /// `rbdelete` by name: a node with two children takes its successor's
    /// key, and the successor's node is unlinked (as in C).
    fn delete(&mut self, name: &[u8], slab: &[Watch]) {
        let z = self.find(name, slab);
        if z == 0 {
            return;
        }
        let y = if self.nodes[z].left == 0 || self.nodes[z].right == 0 {
            z
        } else {
            self.successor(z)
        };
        let x = if self.nodes[y].left != 0 {
            self.nodes[y].left
        } else {
            self.nodes[y].right
        };
        // Like C, this may set the sentinel's parent; the fix-up reads it.
        self.nodes[x].up = self.nodes[y].up;
        let yu = self.nodes[y].up;
        if yu == 0 {
            self.root = x;
        } else if y == self.nodes[yu].left {
            self.nodes[yu].left = x;
        } else {
            self.nodes[yu].right = x;
        }
        if y != z {
            self.nodes[z].key = self.nodes[y].key;
        }
        if !self.nodes[y].red {
            self.delete_fix(x);
        }
    }

    fn delete_fix(&mut self, mut x: usize) {
        while x != self.root && !self.nodes[x].red {
            let p = self.nodes[x].up;
            if x == self.nodes[p].left {
                let mut w = self.nodes[p].right;
                if self.nodes[w].red {
                    self.nodes[w].red = false;
                    self.nodes[p].red = true;
                    self.rotate_left(p);
                    w = self.nodes[self.nodes[x].up].right;
                }
                if !self.nodes[self.nodes[w].left].red && !self.nodes[self.nodes[w].right].red {
                    self.nodes[w].red = true;
                    x = self.nodes[x].up;
                } else {
                    if !self.nodes[self.nodes[w].right].red {
                        let wl = self.nodes[w].left;
                        self.nodes[wl].red = false;
                        self.nodes[w].red = true;
                        self.rotate_right(w);
                        w = self.nodes[self.nodes[x].up].right;
                    }
                    let p = self.nodes[x].up;
                    self.nodes[w].red = self.nodes[p].red;
                    self.nodes[p].red = false;
                    let wr = self.nodes[w].right;
                    self.nodes[wr].red = false;
                    self.rotate_left(p);
                    x = self.root;
                }
            } else {
                let mut w = self.nodes[p].left;
                if self.nodes[w].red {
                    self.nodes[w].red = false;
                    self.nodes[p].red = true;
                    self.rotate_right(p);
                    w = self.nodes[self.nodes[x].up].left;
                }
                if !self.nodes[self.nodes[w].right].red && !self.nodes[self.nodes[w].left].red {
                    self.nodes[w].red = true;
                    x = self.nodes[x].up;
                } else {
                    if !self.nodes[self.nodes[w].left].red {
                        let wr = self.nodes[w].right;
                        self.nodes[wr].red = false;
                        self.nodes[w].red = true;
                        self.rotate_left(w);
                        w = self.nodes[self.nodes[x].up].left;
                    }
                    let p = self.nodes[x].up;
                    self.nodes[w].red = self.nodes[p].red;
                    self.nodes[p].red = false;
                    let wl = self.nodes[w].left;
                    self.nodes[wl].red = false;
                    self.rotate_right(p);
                    x = self.root;
                }
            }
        }
        self.nodes[x].red = false;
        // The sentinel stays black whatever happened above.
        self.nodes[0].red = false;
    }
}

/// Watches by wd and by file name. As in libinotifytools, an insert into
/// either index keeps an existing entry with the same key: the first name
/// given for an inode is the one printed.
#[derive(Default)]
pub(crate) struct Watches {
    slab: Vec<Watch>,
    by_wd: HashMap<i32, usize>,
    by_name: NameTree,
}

impl Watches {
    pub(crate) fn create(&mut self, wd: i32, name: Vec<u8>) {
        let id = self.slab.len();
        self.slab.push(Watch { wd, name });
        self.by_wd.entry(wd).or_insert(id);
        self.by_name.insert(id, &self.slab);
    }

    pub(crate) fn name_of_wd(&self, wd: i32) -> &[u8] {
        if wd == 0 {
            return b"";
        }
        self.by_wd.get(&wd).map_or(b"", |&id| &self.slab[id].name)
    }

    pub(crate) fn id_of_name(&self, name: &[u8]) -> Option<usize> {
        match self.by_name.find(name, &self.slab) {
            0 => None,
            x => Some(self.by_name.nodes[x].key),
        }
    }

    pub(crate) fn wd_of_name(&self, name: &[u8]) -> Option<i32> {
        if name.is_empty() {
            return None;
        }
        self.id_of_name(name).map(|id| self.slab[id].wd)
    }

    /// `inotifytools_replace_filename`: walks the name tree as `rbwalk`
    /// does, renaming each watch under `old` at its end-order visit, while
    /// the tree changes under the walk.
    pub(crate) fn replace_prefix(&mut self, old: &[u8], new: &[u8]) {
        if old.is_empty() || new.is_empty() {
            return;
        }
        let root = self.by_name.root;
        self.walk_replace(root, old, new);
    }

    fn walk_replace(&mut self, x: usize, old: &[u8], new: &[u8]) {
        if x == 0 {
            return;
        }
        let n = self.by_name.nodes[x];
        if n.left == 0 && n.right == 0 {
            self.replace_one(n.key, old, new);
            return;
        }
        self.walk_replace(n.left, old, new);
        let right = self.by_name.nodes[x].right;
        self.walk_replace(right, old, new);
        let key = self.by_name.nodes[x].key;
        self.replace_one(key, old, new);
    }

    fn replace_one(&mut self, id: usize, old: &[u8], new: &[u8]) {
        if !self.slab[id].name.starts_with(old) {
            return;
        }
        if self.slab[id].name == new {
            return;
        }
        let mut renamed = new.to_vec();
        renamed.extend_from_slice(&self.slab[id].name[old.len()..]);
        let current = self.slab[id].name.clone();
        self.by_name.delete(&current, &self.slab);
        self.slab[id].name = renamed;
        self.by_name.insert(id, &self.slab);
    }

    /// The wd and the name of watch `id`.
    pub(crate) fn get(&self, id: usize) -> (i32, &[u8]) {
        let w = &self.slab[id];
        (w.wd, &w.name)
    }

    /// Forgets watch `id` (once `inotify_rm_watch` removed it), as
    /// `inotifytools_remove_watch_by_filename` does.
    pub(crate) fn forget(&mut self, id: usize) {
        self.by_wd.remove(&self.slab[id].wd);
        let current = self.slab[id].name.clone();
        self.by_name.delete(&current, &self.slab);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In-order names and the black height, checking the red-black rules.
    fn check(t: &NameTree, slab: &[Watch], x: usize, out: &mut Vec<Vec<u8>>) -> usize {
        if x == 0 {
            return 1;
        }
        let n = t.nodes[x];
        if n.red {
            assert!(
                !t.nodes[n.left].red && !t.nodes[n.right].red,
                "red node with red child"
            );
        }
        for c in [n.left, n.right] {
            if c != 0 {
                assert_eq!(t.nodes[c].up, x, "parent link");
            }
        }
        let l = check(t, slab, n.left, out);
        out.push(slab[n.key].name.clone());
        let r = check(t, slab, n.right, out);
        assert_eq!(l, r, "black heights");
        l + usize::from(!n.red)
    }

    #[test]
    fn name_tree_keeps_red_black_rules() {
        let mut w = Watches::default();
        let mut expect = std::collections::BTreeSet::new();
        let mut x: u32 = 12345;
        for i in 0..300 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let name = format!("d/{:05}/", x % 1000).into_bytes();
            w.create(i, name.clone());
            expect.insert(name);
        }
        for k in (0..1000).step_by(3) {
            let name = format!("d/{k:05}/").into_bytes();
            let current = name.clone();
            w.by_name.delete(&current, &w.slab);
            expect.remove(&name);
        }
        let mut names = Vec::new();
        let root = w.by_name.root;
        assert!(!w.by_name.nodes[root].red, "black root");
        check(&w.by_name, &w.slab, root, &mut names);
        assert_eq!(names, expect.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn forget_and_rename() {
        // As `-r` watches d/ holding a/b/: the deepest first.
        let mut w = Watches::default();
        for (wd, name) in [(1, "d/a/b/"), (2, "d/a/"), (3, "d/")] {
            w.create(wd, name.as_bytes().to_vec());
        }
        // `mv d/a d/z`: both watches under d/a/ take the new name (as the
        // real inotifywait prints them on this tree).
        w.replace_prefix(b"d/a/", b"d/z/");
        assert_eq!(w.name_of_wd(1), b"d/z/b/");
        assert_eq!(w.name_of_wd(2), b"d/z/");
        assert_eq!(w.wd_of_name(b"d/z/b/"), Some(1));
        assert_eq!(w.wd_of_name(b"d/a/"), None);
        // `mv d/z elsewhere`: d/z/ is forgotten, d/z/b/ stays.
        let id = w.id_of_name(b"d/z/").unwrap();
        assert_eq!(w.get(id), (2, &b"d/z/"[..]));
        w.forget(id);
        assert_eq!(w.name_of_wd(2), b"");
        assert_eq!(w.wd_of_name(b"d/z/"), None);
        assert_eq!(w.wd_of_name(b"d/z/b/"), Some(1));
        assert_eq!(w.name_of_wd(0), b"", "wd 0 is the fake event's");
    }
}
