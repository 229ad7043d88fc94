//! Callsites made at run time, one per place in the caller's code, so that an error logged
//! by `log_err()` (or a panic) carries the caller's file, line and module in every schema
//! — ECS `log.origin.file.*`, Cloud Logging `sourceLocation`, OTel `code.*`, journald
//! `CODE_FILE` — and is filtered by the caller's per-module level, not prodlog's.
//!
//! `tracing` callsites are `'static` and made by its macros at the macro's own place; a
//! `#[track_caller]` function only learns the caller's file and line at run time. So each
//! distinct `(kind, file, line)` gets a [`Site`] leaked once and registered with
//! `tracing-core` like a macro's (the interest cache, per-target filters and reloads all
//! work on it). A program has finitely many call places; past [`MAX_SITES`] (a program
//! generating code at run time, say) the events share one site per kind without a line.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value};
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata};

/// More distinct places than any hand-written program has.
const MAX_SITES: usize = 4096;

/// The fields of an error event (`log_err`, `log_error`).
pub(crate) const ERROR_FIELDS: &[&str] = &[
    "message",
    "error_type",
    "error_chain",
    "location",
    "backtrace",
];

/// The fields of a panic event.
pub(crate) const PANIC_FIELDS: &[&str] = &[
    "message",
    "error_type",
    "panic",
    "thread",
    "location",
    "backtrace",
];

/// What a site logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum SiteKind {
    Error,
    Panic,
}

pub(crate) struct Site {
    meta: OnceLock<Metadata<'static>>,
    /// 0 never, 1 sometimes, 2 always; 3 before the first `set_interest`.
    interest: AtomicU8,
}

impl Callsite for Site {
    fn set_interest(&self, interest: Interest) {
        let v = if interest.is_never() {
            0
        } else if interest.is_always() {
            2
        } else {
            1
        };
        self.interest.store(v, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.meta
            .get()
            .expect("a site's metadata is set before it is registered")
    }
}

impl Site {
    /// Dispatches an event with `values` (in the order of the site's fields) when the
    /// current subscriber wants it.
    pub(crate) fn emit<const N: usize>(&'static self, values: [Option<&dyn Value>; N]) {
        let meta = self.metadata();
        let interest = self.interest.load(Ordering::Relaxed);
        if interest == 0 || *meta.level() > tracing_core::LevelFilter::current() {
            return;
        }
        let set = meta.fields();
        let mut names = set.iter();
        let fields: [Option<tracing_core::field::Field>; N] = std::array::from_fn(|_| names.next());
        if fields.iter().any(Option::is_none) || names.next().is_some() {
            return; // a site is only ever emitted with its own fields' values
        }
        let pairs: [(&tracing_core::field::Field, Option<&dyn Value>); N] =
            std::array::from_fn(|i| (fields[i].as_ref().expect("checked above"), values[i]));
        let values = set.value_set(&pairs);
        // As tracing's macros: a callsite every subscriber always wants skips `enabled`.
        tracing_core::dispatcher::get_default(|dispatch| {
            if interest == 2 || dispatch.enabled(meta) {
                dispatch.event(&Event::new(meta, &values));
            }
        });
    }
}

/// The site of an error logged at `location` (a `#[track_caller]` location, `'static`):
/// found by the location's address after the first time, without working out the module
/// or allocating (`log-err` bench row).
pub(crate) fn error_site(location: &'static std::panic::Location<'static>) -> &'static Site {
    static FAST: OnceLock<std::sync::RwLock<HashMap<usize, &'static Site>>> = OnceLock::new();
    let fast = FAST.get_or_init(Default::default);
    let key = std::ptr::from_ref(location) as usize;
    if let Some(site) = fast
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return site;
    }
    let target = module_of(location.file()).unwrap_or_else(|| "prodlog::error".to_owned());
    let site = site(SiteKind::Error, location.file(), location.line(), &target);
    let mut fast = fast.write().unwrap_or_else(PoisonError::into_inner);
    if fast.len() < MAX_SITES {
        fast.insert(key, site);
    }
    site
}

/// The site of `kind` at `file:line`, with target `target`.
pub(crate) fn site(kind: SiteKind, file: &str, line: u32, target: &str) -> &'static Site {
    type Key = (SiteKind, String, u32, String);
    static ALL: OnceLock<Mutex<HashMap<Key, &'static Site>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let key = (kind, file.to_owned(), line, target.to_owned());
    if let Some(site) = all.get(&key) {
        return site;
    }
    let (key, file, line) = if all.len() >= MAX_SITES {
        ((kind, String::new(), 0, target.to_owned()), None, None)
    } else {
        (key, Some(leak(file)), Some(line))
    };
    if let Some(site) = all.get(&key) {
        return site;
    }
    let site = make(kind, file, line, leak(target));
    all.insert(key, site);
    site
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn make(
    kind: SiteKind,
    file: Option<&'static str>,
    line: Option<u32>,
    target: &'static str,
) -> &'static Site {
    let site: &'static Site = Box::leak(Box::new(Site {
        meta: OnceLock::new(),
        interest: AtomicU8::new(3),
    }));
    let (name, names) = match kind {
        SiteKind::Error => ("error logged", ERROR_FIELDS),
        SiteKind::Panic => ("panic", PANIC_FIELDS),
    };
    let fields = FieldSet::new(names, Identifier(site));
    let _ = site.meta.set(Metadata::new(
        name,
        target,
        Level::ERROR,
        file,
        line,
        Some(target),
        fields,
        Kind::EVENT,
    ));
    tracing_core::callsite::register(site);
    site
}

/// The module a source file most likely belongs to, as `module_path!()` would spell it in
/// that file: `src/orders/api.rs` of the program `billing` is `billing::orders::api`,
/// `crates/auth/src/lib.rs` is `auth`, a dependency's
/// `…/registry/src/…/hyper-1.4.0/src/client.rs` is `hyper::client`. The package of a
/// path that starts at `src/` is the running program's (its executable's name, which
/// cargo makes the package name). An inline `mod` inside a file is not visible from the
/// path: such an event carries its file's module. `None` when nothing sane comes out.
pub(crate) fn module_of(file: &str) -> Option<String> {
    let path = file.replace('\\', "/");
    let path = path.strip_suffix(".rs")?;
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let src = parts
        .iter()
        .rposition(|p| matches!(*p, "src" | "examples" | "tests" | "benches"))?;
    let (krate, rest): (String, &[&str]) = match parts[src] {
        "src" if parts.get(src + 1) == Some(&"bin") && parts.len() > src + 2 => {
            (parts[src + 2].to_owned(), &parts[src + 3..])
        }
        "src" => {
            let krate = match src.checked_sub(1).map(|i| parts[i]) {
                Some(dir) => package_of_dir(dir),
                None => program()?,
            };
            (krate, &parts[src + 1..])
        }
        _ => (parts.get(src + 1)?.to_string(), &parts[src + 2..]),
    };
    let mut module = ident(&krate)?;
    let n = rest.len();
    for (i, part) in rest.iter().enumerate() {
        if i + 1 == n && matches!(*part, "main" | "lib" | "mod") {
            break;
        }
        module.push_str("::");
        module.push_str(&ident(part)?);
    }
    Some(module)
}

/// `hyper-1.4.0` (a registry checkout) is `hyper`; any other directory is its name.
fn package_of_dir(dir: &str) -> String {
    match dir.rsplit_once('-') {
        Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => {
            name.to_owned()
        }
        _ => dir.to_owned(),
    }
}

/// The running program's name, as cargo names a binary after its package.
fn program() -> Option<String> {
    static NAME: OnceLock<Option<String>> = OnceLock::new();
    NAME.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        let stem = exe.file_stem()?.to_str()?;
        // A test or bench harness is `name-<16 hex>`.
        Some(match stem.rsplit_once('-') {
            Some((name, hash))
                if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                name.to_owned()
            }
            _ => stem.to_owned(),
        })
    })
    .clone()
}

/// A path component as a Rust identifier (`-` becomes `_`), or `None` when it is not one.
fn ident(part: &str) -> Option<String> {
    let s: String = part
        .chars()
        .map(|c| if c == '-' { '_' } else { c })
        .collect();
    let ok = !s.is_empty()
        && s.len() <= 64
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::module_of;

    #[test]
    fn modules_from_paths() {
        let me = super::program().unwrap();
        let cases = [
            ("crates/auth/src/lib.rs", "auth".to_owned()),
            ("crates/auth/src/tokens/mod.rs", "auth::tokens".to_owned()),
            ("crates/billing-api/src/orders.rs", "billing_api::orders".to_owned()),
            ("src/main.rs", me.clone()),
            ("src/orders/api.rs", format!("{me}::orders::api")),
            ("src/bin/worker.rs", "worker".to_owned()),
            ("src/bin/worker/jobs.rs", "worker::jobs".to_owned()),
            ("examples/quickstart.rs", "quickstart".to_owned()),
            (
                "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/hyper-1.4.0/src/client/conn.rs",
                "hyper::client::conn".to_owned(),
            ),
            (r"C:\svc\src\db.rs", "svc::db".to_owned()),
        ];
        for (file, want) in cases {
            assert_eq!(module_of(file).as_deref(), Some(want.as_str()), "{file}");
        }
        for bad in [
            "",
            "main.rs",
            "src/a b.rs",
            "src/9x.rs",
            "lib/x.rs",
            "src/x\u{1b}[31m.rs",
        ] {
            assert_eq!(module_of(bad), None, "{bad:?}");
        }
    }
}
