//! Log template mining in the style of Drain (He et al., ICWS 2017), for any logger's
//! messages with no per-system configuration.
//!
//! 1. **Tokens.** A message is split on whitespace and on the separators a value is glued
//!    to (`=`, `:`, `,`, `(`, `)`, `[`, `]`, quotes); each token is classified: a token
//!    with a digit (numbers, ids with numeric tails such as `blk_-4532…` or
//!    `container_1445…`, IPs, hex, durations, sizes, times), a path or URL, a quoted
//!    string, or a `key=value`'s value of those kinds is a variable, `<*>`.
//! 2. **A fixed-depth tree.** Messages are grouped by token count, then by their first
//!    token (a variable one goes to the `<*>` branch).
//! 3. **Similarity.** In its leaf, a message joins the group whose template's constant
//!    tokens it repeats most at the same positions, when it repeats at least half of them
//!    (more than half below four tokens: "request started" and "request completed" stay
//!    apart); the positions that differ become `<*>`. Otherwise it starts a group.
//!    Counting only the template's constants, not its length, lets a message with many
//!    values (a package manager's `date time status unpacked curl:amd64 7.88`) join its
//!    group when a name without digits differs; a template keeps more than half of its
//!    first message's constant tokens, so merges cannot wear it down to `<*> <*> <*>`.
//!
//! Memory is bounded by the number of templates, not of lines; a template's id is a hash of
//! its final text (FNV-1a, 64 bits), stable across runs over the same data.

use std::collections::HashMap;

/// The placeholder of a variable token.
pub(crate) const VAR: &str = "<*>";

/// A template's tokens: constant text, or a variable.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) tokens: Vec<Option<String>>,
    /// Whether a space came before each token (in the first message of the group): the
    /// template reads like the messages.
    spaced: Vec<bool>,
    /// Constant tokens of the first message: a template keeps more than half of them.
    first_constants: usize,
    pub(crate) count: u64,
}

impl Group {
    /// The template's text: tokens joined by single spaces, `<*>` for variables.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 && self.spaced.get(i).copied().unwrap_or(true) {
                out.push(' ');
            }
            out.push_str(t.as_deref().unwrap_or(VAR));
        }
        out
    }

    /// The share of the template's constant tokens the message repeats at the same
    /// positions (the template's variables take anything), and the template's variables.
    fn similarity(&self, tokens: &[Option<&str>]) -> (f64, usize, usize) {
        let mut same = 0;
        let mut vars = 0;
        for (a, b) in self.tokens.iter().zip(tokens) {
            match (a, b) {
                (None, _) => vars += 1,
                (Some(a), Some(b)) if a == b => same += 1,
                _ => {}
            }
        }
        let constants = self.tokens.len() - vars;
        if constants == 0 {
            return (1.0, vars, same);
        }
        (same as f64 / constants as f64, vars, same)
    }
}

/// The stable id of a template text.
pub(crate) fn template_id(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Whether a token is a value rather than part of the message's wording.
fn variable(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit()) || variable_whole(t)
}

/// Splits a message into tokens; variable ones are `None`.
pub(crate) fn tokens(message: &str) -> Vec<Option<&str>> {
    spaced_tokens(message).into_iter().map(|(t, _)| t).collect()
}

/// The tokens, each with whether a space came before it.
fn spaced_tokens(message: &str) -> Vec<(Option<&str>, bool)> {
    let mut out = Vec::with_capacity(16);
    for word in message.split_ascii_whitespace() {
        let mut spaced = true;
        // A whole path, URL or quoted string stays one token.
        if variable_whole(word) {
            out.push((None, true));
            continue;
        }
        let mut start = 0;
        // The separators are ASCII: a byte scan finds them (never inside a UTF-8 sequence).
        for (i, b) in word.bytes().enumerate() {
            if matches!(
                b,
                b'=' | b':' | b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b';' | b'"' | b'\''
            ) {
                if start < i {
                    out.push((classify(&word[start..i]), spaced));
                    spaced = false;
                }
                out.push((Some(&word[i..i + 1]), spaced));
                spaced = false;
                start = i + 1;
            }
        }
        if start < word.len() {
            out.push((classify(&word[start..]), spaced));
        }
    }
    collapse(out)
}

/// A run of variables joined by separators (`10.0.0.7:443`, `[7,12]`) is one variable.
fn collapse(tokens: Vec<(Option<&str>, bool)>) -> Vec<(Option<&str>, bool)> {
    let sep =
        |t: &(Option<&str>, bool)| !t.1 && t.0.is_some_and(|t| matches!(t, ":" | "," | "=" | ";"));
    let mut out: Vec<(Option<&str>, bool)> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].0.is_none() {
            // Swallow the `sep var` pairs glued to it.
            let mut j = i + 1;
            while j + 1 < tokens.len()
                && sep(&tokens[j])
                && tokens[j + 1].0.is_none()
                && !tokens[j + 1].1
            {
                j += 2;
            }
            out.push((None, tokens[i].1));
            i = j;
        } else {
            out.push(tokens[i]);
            i += 1;
        }
    }
    out
}

fn variable_whole(word: &str) -> bool {
    let b = word.as_bytes();
    let quoted = b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0];
    let path = b.first() == Some(&b'/') && b[1..].contains(&b'/');
    quoted || path || memchr::memmem::find(b, b"://").is_some()
}

fn classify(t: &str) -> Option<&str> {
    if variable(t) {
        None
    } else {
        Some(t)
    }
}

/// The miner: groups, and the tree that finds a message's candidates.
#[derive(Default)]
pub(crate) struct Miner {
    pub(crate) groups: Vec<Group>,
    /// Token count, then first token (`<*>` for a variable): the groups to compare with.
    tree: HashMap<usize, HashMap<String, Vec<usize>>>,
    /// The least share of equal constant tokens to join a group.
    threshold: f64,
}

impl Miner {
    pub(crate) fn new() -> Miner {
        Miner {
            threshold: 0.5,
            ..Miner::default()
        }
    }

    fn key<'t>(tokens: &[Option<&'t str>]) -> (usize, &'t str) {
        let first = tokens.first().copied().flatten().unwrap_or(VAR);
        (tokens.len(), first)
    }

    /// The group a message belongs to, among the existing ones (no change).
    pub(crate) fn find(&self, message: &str) -> Option<usize> {
        let tokens = tokens(message);
        self.best(&Self::key(&tokens), &tokens)
    }

    fn best(&self, key: &(usize, &str), tokens: &[Option<&str>]) -> Option<usize> {
        let leaf = self.tree.get(&key.0)?.get(key.1)?;
        let mut best: Option<(f64, usize, usize)> = None;
        for &g in leaf {
            let group = &self.groups[g];
            let (sim, vars, same) = group.similarity(tokens);
            // Short messages that differ in a word are different events ("request
            // started", "request completed"): below four tokens, more than half must match.
            // And a template never loses half of its first message's wording: merge after
            // merge would otherwise wear it down to a pattern that takes anything.
            let enough = sim >= self.threshold
                && (tokens.len() >= 4 || sim > self.threshold)
                && same * 2 > group.first_constants;
            if enough && best.is_none_or(|(s, v, _)| sim > s || (sim == s && vars > v)) {
                best = Some((sim, vars, g));
            }
        }
        best.map(|(_, _, g)| g)
    }

    /// Adds a message: the index of its group (created, or widened to take it).
    pub(crate) fn add(&mut self, message: &str) -> usize {
        let spaced = spaced_tokens(message);
        let tokens: Vec<Option<&str>> = spaced.iter().map(|(t, _)| *t).collect();
        let key = Self::key(&tokens);
        match self.best(&key, &tokens) {
            Some(g) => {
                let group = &mut self.groups[g];
                group.count += 1;
                for (t, m) in group.tokens.iter_mut().zip(&tokens) {
                    if t.is_some() && t.as_deref() != *m {
                        *t = None;
                    }
                }
                g
            }
            None => {
                self.groups.push(Group {
                    tokens: tokens.iter().map(|t| t.map(str::to_owned)).collect(),
                    spaced: spaced.iter().map(|(_, s)| *s).collect(),
                    first_constants: tokens.iter().filter(|t| t.is_some()).count(),
                    count: 1,
                });
                let g = self.groups.len() - 1;
                self.tree
                    .entry(key.0)
                    .or_default()
                    .entry(key.1.to_owned())
                    .or_default()
                    .push(g);
                g
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_wording_not_by_values() {
        let mut m = Miner::new();
        let a = m.add("Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010");
        let b = m.add("Receiving block blk_7503483334202473044 src: /10.251.215.16:55695 dest: /10.251.215.16:50010");
        let c = m.add("PacketResponder 1 for block blk_38865049064139660 terminating");
        let d = m.add("user alice logged in");
        let e = m.add("user bob logged in");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(d, e);
        assert_eq!(m.groups[d].text(), "user <*> logged in");
        assert_eq!(m.groups[a].text(), "Receiving block <*> src: <*> dest: <*>");
        let t = tokens("user=42 from 10.0.0.7:443 took [7,12] ms");
        assert_eq!(
            t,
            [
                Some("user"),
                Some("="),
                None,
                Some("from"),
                None,
                Some("took"),
                Some("["),
                None,
                Some("]"),
                Some("ms")
            ]
        );
        assert_eq!(m.find("user carol logged in"), Some(d));
        assert_eq!(template_id("x"), template_id("x"));
        assert_ne!(template_id("x"), template_id("y"));
    }
}
