//! What the tower middleware reads from a request's headers, each parsed strictly: any
//! header is attacker-controlled, so a value that does not have the expected shape is
//! ignored rather than logged or echoed.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, HeaderName, HeaderValue};

/// A valid W3C `traceparent` (trace-context level 1), with this server's span id.
#[derive(Debug, Clone)]
pub(crate) struct TraceParent {
    /// `trace_id`, the parent's `span_id` and this server's, as lowercase hex.
    ids: [u8; 32 + 16 + 16],
    flags: [u8; 2],
    tracestate: Option<HeaderValue>,
}

const TRACESTATE_MAX: usize = 512;

impl TraceParent {
    /// `version-traceid-parentid-flags`: version 2 hex digits and not `ff` (a later version
    /// may append `-…`), a trace id of 32 and a parent id of 16 lowercase hex digits, not
    /// all zero, flags 2 hex digits. One `traceparent` header only.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<TraceParent> {
        let mut all = headers.get_all("traceparent").iter();
        let value = all.next()?;
        if all.next().is_some() {
            return None;
        }
        let mut tp = TraceParent::parse(value.as_bytes())?;
        let mut states = headers.get_all("tracestate").iter();
        tp.tracestate = match (states.next(), states.next()) {
            (Some(s), None)
                if s.len() <= TRACESTATE_MAX
                    && s.as_bytes().iter().all(|b| (0x20..0x7f).contains(b)) =>
            {
                Some(s.clone())
            }
            _ => None,
        };
        Some(tp)
    }

    fn parse(v: &[u8]) -> Option<TraceParent> {
        if v.len() < 55 || (v.len() > 55 && v[55] != b'-') {
            return None;
        }
        let hex = |s: &[u8]| s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let (version, trace, parent, flags) = (&v[0..2], &v[3..35], &v[36..52], &v[53..55]);
        if v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
            return None;
        }
        if !hex(version) || version == b"ff" || (version == b"00" && v.len() != 55) {
            return None;
        }
        let nonzero = |s: &[u8]| s.iter().any(|b| *b != b'0');
        if !hex(trace) || !hex(parent) || !hex(flags) || !nonzero(trace) || !nonzero(parent) {
            return None;
        }
        let mut ids = [0u8; 64];
        ids[..32].copy_from_slice(trace);
        ids[32..48].copy_from_slice(parent);
        let mine = loop {
            let r = crate::request_id::random_u64();
            if r != 0 {
                break r;
            }
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for i in 0..16 {
            ids[48 + i] = HEX[(mine >> (60 - 4 * i) & 0xf) as usize];
        }
        Some(TraceParent {
            ids,
            flags: [flags[0], flags[1]],
            tracestate: None,
        })
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    pub(crate) fn trace_id(&self) -> &str {
        Self::text(&self.ids[..32])
    }

    pub(crate) fn parent_id(&self) -> &str {
        Self::text(&self.ids[32..48])
    }

    /// This server's span id.
    pub(crate) fn span_id(&self) -> &str {
        Self::text(&self.ids[48..])
    }

    /// `traceparent` naming this server's span, and the caller's `tracestate`.
    pub(crate) fn echo(&self, out: &mut HeaderMap) {
        let value = format!(
            "00-{}-{}-{}",
            self.trace_id(),
            self.span_id(),
            Self::text(&self.flags)
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            out.insert(HeaderName::from_static("traceparent"), v);
        }
        if let Some(state) = &self.tracestate {
            out.insert(HeaderName::from_static("tracestate"), state.clone());
        }
    }
}

/// The client's address from a proxy's header: the last address of the last `header`
/// (the one the proxy in front wrote); `for=` of `Forwarded`. `None` when it is not an IP
/// address (with or without a port).
pub(crate) fn client_from_header(headers: &HeaderMap, header: &HeaderName) -> Option<String> {
    let value = headers.get_all(header).iter().next_back()?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    let last = if header.as_str() == "forwarded" {
        last.split(';')
            .map(str::trim)
            .find_map(|kv| {
                kv.get(..4)
                    .filter(|k| k.eq_ignore_ascii_case("for="))
                    .map(|_| &kv[4..])
            })?
            .trim_matches('"')
    } else {
        last
    };
    if let Ok(ip) = last.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    if let Ok(addr) = last.parse::<SocketAddr>() {
        return Some(addr.ip().to_string());
    }
    // `[v6]` without a port.
    let bracketed = last.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// The longest user agent kept, in bytes.
const USER_AGENT_MAX: usize = 256;

/// A user agent cut to [`USER_AGENT_MAX`] bytes at a character boundary (the formatter
/// escapes the rest; the redactor sees it like any value).
pub(crate) fn sane_user_agent(ua: &str) -> String {
    if ua.len() <= USER_AGENT_MAX {
        return ua.to_owned();
    }
    let mut end = USER_AGENT_MAX;
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &ua[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn traceparent_valid_and_hostile() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let h = headers(&[("traceparent", good), ("tracestate", "congo=t61rcWkgMzE")]);
        let tp = TraceParent::from_headers(&h).unwrap();
        assert_eq!(tp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.parent_id(), "00f067aa0ba902b7");
        assert_eq!(tp.span_id().len(), 16);
        assert_ne!(tp.span_id(), tp.parent_id());
        let mut out = HeaderMap::new();
        tp.echo(&mut out);
        let echoed = out["traceparent"].to_str().unwrap();
        assert!(echoed.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(echoed.ends_with("-01") && !echoed.contains("00f067aa0ba902b7"));
        assert_eq!(out["tracestate"], "congo=t61rcWkgMzE");
        // A later version may append fields.
        let v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert!(TraceParent::from_headers(&headers(&[("traceparent", v1)])).is_some());
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\tx",
        ] {
            let h = headers(&[("traceparent", bad)]);
            assert!(TraceParent::from_headers(&h).is_none(), "{bad:?}");
        }
        // Two traceparent headers: ambiguous, ignored.
        let two = headers(&[("traceparent", good), ("traceparent", good)]);
        assert!(TraceParent::from_headers(&two).is_none());
        // A tracestate past 512 bytes is not echoed.
        let long = "a=".to_owned() + &"b".repeat(600);
        let h = headers(&[("traceparent", good), ("tracestate", &long)]);
        let mut out = HeaderMap::new();
        TraceParent::from_headers(&h).unwrap().echo(&mut out);
        assert!(out.get("tracestate").is_none());
    }

    #[test]
    fn client_addresses_from_proxy_headers() {
        let xff = HeaderName::from_static("x-forwarded-for");
        let fwd = HeaderName::from_static("forwarded");
        let cases: &[(&HeaderName, &str, Option<&str>)] = &[
            (&xff, "203.0.113.7", Some("203.0.113.7")),
            (&xff, "1.1.1.1, 10.0.0.2", Some("10.0.0.2")),
            (&xff, "spoofed, 198.51.100.4:4711", Some("198.51.100.4")),
            (&xff, "2001:db8::1", Some("2001:db8::1")),
            (&xff, "[2001:db8::1]:443", Some("2001:db8::1")),
            (&xff, "[2001:db8::1]", Some("2001:db8::1")),
            (&xff, "evil\u{1b}[31m", None),
            (&xff, "' OR 1=1 --", None),
            (&xff, "", None),
            (
                &fwd,
                "for=192.0.2.60;proto=http;by=203.0.113.43",
                Some("192.0.2.60"),
            ),
            (
                &fwd,
                "for=1.2.3.4, for=\"[2001:db8:cafe::17]:4711\"",
                Some("2001:db8:cafe::17"),
            ),
            (&fwd, "proto=https", None),
        ];
        for (h, v, want) in cases {
            let map = match HeaderValue::from_str(v) {
                Ok(value) => {
                    let mut m = HeaderMap::new();
                    m.insert((*h).clone(), value);
                    m
                }
                Err(_) => HeaderMap::new(),
            };
            assert_eq!(client_from_header(&map, h).as_deref(), *want, "{h}: {v:?}");
        }
    }

    #[test]
    fn long_user_agents_are_cut_on_a_boundary() {
        assert_eq!(sane_user_agent("curl/8.5.0"), "curl/8.5.0");
        let long = "é".repeat(200);
        let cut = sane_user_agent(&long);
        assert!(cut.len() <= USER_AGENT_MAX + 3 && cut.ends_with('…'));
    }
}
