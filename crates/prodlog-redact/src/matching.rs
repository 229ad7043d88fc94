//! Running a rule where the prefilter says it may match: the spans it finds, checked.

use regex::Regex;

use crate::redactor::{Hits, Redactor, Span};
use crate::rules::{is_aws_secret, is_card, is_iban, is_ssn, is_token_like, Check};

impl Redactor {
    pub(crate) fn find_spans(&self, idx: usize, text: &str, hits: &Hits, spans: &mut Vec<Span>) {
        if Some(idx) == self.inner.vendor_rule {
            self.vendor_spans(idx, text, &hits.vendors, spans);
            return;
        }
        if Some(idx) == self.inner.issued_rule {
            crate::issued::find(text, |start, end| {
                spans.push(Span {
                    start,
                    end,
                    rule: idx,
                    vendor: None,
                });
            });
            return;
        }
        if Some(idx) == self.inner.key_value {
            let mut ranges = Vec::new();
            crate::pairs::find_pairs(text, &hits.keys, |k| self.is_sensitive_name(k), &mut ranges);
            spans.extend(ranges.into_iter().map(|(start, end)| Span {
                start,
                end,
                rule: idx,
                vendor: None,
            }));
            return;
        }
        let rule = &self.inner.rules[idx];
        if !rule.regex.is_match(text) {
            return;
        }
        if rule.groups.is_empty() {
            // The whole match is the secret: no capture slots to allocate.
            for m in rule.regex.find_iter(text) {
                let mut end = m.end();
                if rule.check == Check::Card {
                    // `4111 1111 1111 1111 42`: the number, without the group after it.
                    while !self.passes(Check::Card, &text[m.start()..end]) {
                        match text[m.start()..end].rfind([' ', '-', '.', '_']) {
                            Some(i) => end = m.start() + i,
                            None => break,
                        }
                    }
                }
                let found = &text[m.start()..end];
                if !found.is_empty()
                    && self.passes(rule.check, found)
                    && !part_of_an_id(rule.check, text, m.start(), end)
                {
                    spans.push(Span {
                        start: m.start(),
                        end,
                        rule: idx,
                        vendor: None,
                    });
                }
            }
            return;
        }
        for caps in rule.regex.captures_iter(text) {
            if rule.check == Check::NamedKey
                && !caps
                    .name("k")
                    .is_some_and(|k| self.is_sensitive_name(k.as_str()))
            {
                continue;
            }
            let m = rule
                .groups
                .iter()
                .find_map(|&g| caps.get(g))
                .or_else(|| caps.get(0));
            if let Some(m) = m.filter(|m| !m.is_empty() && self.passes(rule.check, m.as_str())) {
                spans.push(Span {
                    start: m.start(),
                    end: m.end(),
                    rule: idx,
                    vendor: None,
                });
            }
        }
    }

    /// The vendor formats whose prefix starts a word at a hit, each tried anchored there;
    /// the longest match that ends a word wins.
    fn vendor_spans(&self, idx: usize, text: &str, hits: &[(usize, usize)], spans: &mut Vec<Span>) {
        let bytes = text.as_bytes();
        for &(pos, pattern) in hits {
            let mut best = (0, "");
            for &v in &self.inner.pattern_vendors[pattern] {
                let vendor = &crate::vendors::VENDORS[usize::from(v)];
                if !text[pos..].starts_with(vendor.prefix) {
                    continue; // the prefilter ignores case; formats do not
                }
                // A common-word prefix inside a compound token (`pk_live_…` holds
                // `live_`) is the compound's, not this vendor's: its own first word
                // decides. A distinctive prefix (`ghp_`, `AKIA`) counts wherever it
                // starts a word (`x-ghp_…`, `access-key-AKIA…`).
                if vendor.loose && !crate::markers::word_start(bytes, pos) {
                    continue;
                }
                let regex = self.inner.vendors[usize::from(v)]
                    .get_or_init(|| Regex::new(&crate::vendors::anchored(vendor)).ok());
                let Some(m) = regex.as_ref().and_then(|r| r.find(&text[pos..])) else {
                    continue;
                };
                let end = pos + m.end();
                let whole_word = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
                let random = !vendor.loose
                    || crate::vendors::looks_random(&text[pos + vendor.prefix.len()..end]);
                if whole_word && random && m.end() > best.0 {
                    best = (m.end(), vendor.name);
                }
            }
            if best.0 > 0 {
                spans.push(Span {
                    start: pos,
                    end: pos + best.0,
                    rule: idx,
                    vendor: Some(best.1),
                });
            }
        }
    }

    #[inline]
    fn passes(&self, check: Check, m: &str) -> bool {
        match check {
            Check::Card => is_card(m),
            Check::Ssn => is_ssn(m),
            Check::TokenLike => is_token_like(m),
            Check::AwsSecret => is_aws_secret(m),
            Check::Iban => is_iban(m),
            Check::NotAWord => crate::rules::is_not_a_word(m),
            Check::NotAParamName => {
                // `Digest username=` is a parameter's name; `Authorization: Bearer` alone
                // names a scheme and carries nothing.
                let param =
                    m.ends_with('=') && m[..m.len() - 1].bytes().all(|b| b.is_ascii_alphabetic());
                let scheme = crate::pairs::AUTH_SCHEMES
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(m));
                !param && !scheme
            }
            Check::None | Check::SensitiveKey | Check::Vendor | Check::NamedKey | Check::Issued => {
                true
            }
        }
    }
}

/// Digits joined to more of an identifier by `-`, `_`, `.` or `/` (`4532015112830366-0000`,
/// `chunk_-4532015112830366`, a UUID's groups, `v1.123-45-6789`, a path segment
/// `/blocks/4532015112830366/`): part of an id, a version or a path, not a card number or
/// SSN, whatever Luhn says. A card number stands alone.
fn part_of_an_id(check: Check, text: &str, start: usize, end: usize) -> bool {
    if !matches!(check, Check::Card | Check::Ssn) {
        return false;
    }
    let b = text.as_bytes();
    let joiner = |c: u8| matches!(c, b'-' | b'_' | b'.' | b'/');
    // Over a run of joiners (`chunk_-4532…`): an identifier's character before it.
    let mut i = start;
    while i > 0 && joiner(b[i - 1]) {
        i -= 1;
    }
    if i < start && i > 0 && b[i - 1].is_ascii_alphanumeric() {
        return true;
    }
    // `4111111111111111.0`: a float's zero fraction (a number logged as `f64`), not an id.
    let zeros = b.get(end) == Some(&b'.') && {
        let n = b[end + 1..].iter().take_while(|&&c| c == b'0').count();
        n > 0 && !b.get(end + 1 + n).is_some_and(u8::is_ascii_alphanumeric)
    };
    (start >= 2 && joiner(b[start - 1]) && b[start - 2].is_ascii_alphanumeric())
        || (!zeros && end + 1 < b.len() && joiner(b[end]) && b[end + 1].is_ascii_alphanumeric())
}
