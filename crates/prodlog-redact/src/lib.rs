//! What a log field or a log text may show: passwords, API keys, tokens and PII redacted by
//! field name and by value. A pure string library — no `tracing` inside — used by prodlog's
//! formatters for every output and by `prodlog audit` to find what escaped.
//!
//! ```
//! use prodlog_redact::Redactor;
//! use std::borrow::Cow;
//!
//! let r = Redactor::default();
//! assert_eq!(r.redact_field("db_password", "hunter2"), "[REDACTED]");
//! assert_eq!(r.redact_field("token_count", "12"), "12");
//! assert_eq!(
//!     r.redact_text("connecting to postgres://app:s3cr3t@db.internal:5432/orders"),
//!     "connecting to postgres://app:[REDACTED]@db.internal:5432/orders"
//! );
//! // Nothing sensitive: borrowed, no allocation.
//! assert!(matches!(r.redact_text("payment processed"), Cow::Borrowed(_)));
//! ```
//!
//! # What is caught
//!
//! - **By field name**, whatever the value: the last word of the name (any case, `_ - .`
//!   separators, camelCase) is a secret noun — `password`, `user_password`, `clientSecret`,
//!   `X-Api-Key`, `access_token`, `authorization`, `set-cookie`, `ssn`, `card_number`, `cvv`,
//!   `private_key`. Not `token_count`, `tokenizer`, `secret_length`, `public_key`: a word
//!   after the noun makes the name *about* the secret (`password_reset_requested` is a
//!   flag, shown). [`RedactorBuilder::field_name`] adds names.
//! - **By value**, under any name and inside free text: about 200 vendor formats — AI
//!   providers, clouds (AWS, Azure's identifiable keys, GCP, Alibaba, DigitalOcean, …),
//!   CI/CD, package registries, SaaS, payments, observability, secrets managers — kept as a
//!   data table (`vendors.rs`: one line per format, its literal prefix feeding the
//!   prefilter); JWTs; PEM private key blocks (also cut short); `Authorization:`
//!   (and `Proxy-Authorization:`) headers, Digest responses, bearer and basic credentials;
//!   cookies; command lines (`--password x`, `--token "x"`, `-pSECRET` after mysql-style
//!   tools, `sshpass -p`, `curl -u user:pass`, `-Ddb.password=x`); passwords in URLs
//!   (`postgres://user:[REDACTED]@host`, `redis://:pw@host`) and connection strings (Go
//!   DSNs, Oracle `user/pw@//host`, ADO.NET and Azure `Password=`/`AccountKey=`/
//!   `SharedAccessKey=`, pgpass and netrc lines); .NET `<add key=… value=…>` settings;
//!   positional credentials (`Credential("user", "…")`); password hashes (bcrypt, crypt(3),
//!   argon2, Django);
//!   `key=value`, `key: value`, `"key": "value"` pairs — also in query strings, nested or
//!   escaped JSON and `Debug` output — whose key is a sensitive name; payment card numbers
//!   (issuer prefix, length and Luhn); IBANs (mod-97); US SSNs; e-mail addresses when
//!   [`RedactorBuilder::emails`] is on (off by default: they are often needed to debug).
//! - **Disguised**: each text is also read as a person reads it — after one round of URL,
//!   HTML-entity or JavaScript/JSON unescaping, without invisible characters, with
//!   fullwidth, mathematical and look-alike letters mapped to Latin, without a line break
//!   before a separator — and what is found there is replaced in the original
//!   (`normalize.rs`).
//! - Only the secret part is replaced: the host of a URL, the key of a pair, the
//!   `-----BEGIN … PRIVATE KEY-----` lines stay.
//! - **Users' rule files** in gitleaks' TOML format ([`RedactorBuilder::rules_file`]): its
//!   keywords join the prefilter, so a clean text pays nothing more for them.
//!
//! # What is left alone
//!
//! A sensitive key followed by something that is not a secret: flags (`using password:
//! YES`, `has_password=true`), masks (`********`, `[hidden]`), SQL and format placeholders
//! (`= $1`, `= ?`, `= :pw`), references (`$VAR`, `${VAR}`, `%VAR%`, `{{ var }}`), counts
//! under plural names (`max_tokens=4096`), names made of colon-joined parts (`auth:user:42`,
//! `token:refresh`, an ARN's `…:secret:orders/db-password-x`), path segments
//! (`auth::password::check`), and digits that are part of an id (a UUID's groups,
//! `4532015112830366-0000`) rather than a card number.
//!
//! Not caught: a secret with no recognisable format under an innocent name in free text
//! (`"the code is 8812"`) — wrap it in [`Sensitive`] at the call site.
//!
//! # Cost
//!
//! Every rule is gated by a prefilter: one Aho-Corasick pass over the text for the literals
//! the rules need (`eyJ`, `://`, `AKIA`, `password`, …) plus a count of digits for the card
//! and SSN rules; a text with none of them is returned borrowed after that pass. Only the
//! rules whose literals were seen run their regex. Name decisions for `&'static str` names
//! are cached per thread ([`Redactor::is_sensitive_name_static`]).
//!
//! # Dependencies
//!
//! `regex` (linear-time matching: a hostile value cannot make redaction slow),
//! `aho-corasick` (the multi-literal prefilter; both from the regex authors), `smallvec`
//! (the prefilter's hit positions stay on the stack), and `toml` with `serde` (reading
//! gitleaks rule files).

mod builder;
mod config_file;
mod issued;
mod markers;
mod matching;
mod names;
mod normalize;
mod pairs;
mod redactor;
mod rules;
mod rules_file;
mod sensitive;
mod shape;
mod values;
mod vendors;

pub use builder::{BuildError, RedactorBuilder};
pub use redactor::{CardMask, Redactor, Replacement, MAX_SCAN_BYTES};
pub use sensitive::Sensitive;
