//! Sensitive field names: split a name into words the way people write them (any case,
//! `_`/`-`/`.`/space separators, camelCase), then look at its last word.
//!
//! The rule: a name is sensitive when its **last word** — after dropping trailing "carrier"
//! words such as `value`, `hash`, `header`, `new` — is a secret noun (`password`, `token`,
//! `secret`, `cookie`, `ssn`, …, or a word ending in one: `accesstoken`, `dbpassword`), or
//! its last two words are a secret compound (`api key`, `private key`, `card number`, …).
//! So `user_password`, `clientSecret`, `X-Api-Key`, `set-cookie` and `password_hash` are
//! sensitive, while `token_count`, `tokenizer`, `secret_length`, `access_token_url`,
//! `public_key`, `kms_key_id` and `password_reset_requested` (a flag *about* a password) are
//! not: a word after the noun says the value is about the secret, not the secret.

/// Words after the secret noun that still carry the secret itself.
#[rustfmt::skip]
const CARRIERS: &[&str] = &[
    "value", "val", "hash", "hashed", "header", "hdr", "raw", "plain", "plaintext", "str",
    "string", "b64", "base64", "enc", "encoded", "encrypted", "data", "bytes", "text", "field",
    "param", "input", "confirm", "confirmation", "new", "old", "current", "prev", "previous",
    "hex", "md5", "sha1", "sha256", "digest",
];

/// Words that glue onto a secret noun in one word (`dbpassword`, `accesstoken`).
#[rustfmt::skip]
const PREFIXES: &[&str] = &[
    "access", "refresh", "auth", "id", "session", "bearer", "api", "csrf", "xsrf", "db", "user",
    "admin", "root", "client", "app", "private", "master", "oauth", "sso", "login", "account",
    "service", "svc", "mysql", "postgres", "pg", "redis", "smtp", "ftp", "ldap", "proxy",
    "encryption", "signing", "secret", "shared", "webhook", "bot", "personal", "deploy",
    "registry", "aws", "gcp", "azure", "github", "gitlab", "slack", "stripe", "mail", "email",
    "wifi", "vault", "keystore", "truststore", "consumer", "hmac", "jwt", "otp", "totp", "mfa",
];

/// A last word that is one of these, or one of [`PREFIXES`] followed by one of these, is
/// sensitive (`password`, `dbpassword`, `accesstoken`; not `jsonwebtoken`).
#[rustfmt::skip]
const SUFFIXES: &[&str] = &[
    "password", "passwd", "passphrase", "passcode", "secret", "token", "apikey", "accesskey",
    "secretkey", "privatekey", "signingkey", "credential", "credentials", "cookie", "passwords",
    "secrets", "tokens", "cookies", "apikeys",
];

/// A last word equal to one of these is sensitive.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "pwd", "pass", "pw", "ssn", "cvv", "cvv2", "cvc", "cvc2", "pin", "otp", "auth",
    "authorization", "sig", "signature", "jwt", "bearer", "creds", "sessionid", "iban",
    "cardnumber", "ccnumber", "creditcard", "securitycode", "pat", "psk", "sas",
    "connectionstring", "connstr", "passphrase", "privatekey", "sharedaccesskey", "accountkey",
];

/// Words before `key` that make it a credential (`api_key`, `stripe_key`; not `bucket_key`).
#[rustfmt::skip]
const KEY_OWNERS: &[&str] = &[
    "api", "private", "secret", "access", "signing", "encryption", "master", "account", "auth",
    "session", "client", "ssh", "gpg", "pgp", "license", "shared", "app", "hmac", "jwt",
    "webhook", "wallet", "decryption", "consumer", "service", "admin",
    // Vendors whose "key" is a credential.
    "aws", "gcp", "google", "azure", "stripe", "github", "gitlab", "openai", "anthropic", "slack",
    "twilio", "sendgrid", "mailgun", "datadog", "dd", "sentry", "heroku", "shopify", "paypal",
    "firebase", "mapbox", "algolia", "pusher", "segment", "mixpanel", "cloudflare",
    "digitalocean", "npm", "pypi", "vault", "okta", "auth0",
    // Credentials by role.
    "subscription", "preshared", "unseal", "recovery", "storage", "functions", "function",
    "root", "registry", "ingestion", "ingest", "license", "deploy", "signature", "sas",
    "encrypt", "crypto", "cipher", "aes", "rsa", "ed25519",
    // More vendors whose "key" is a credential (the formats' owners in secret scanners).
    "adafruit", "adobe", "airtable", "asana", "atlassian", "bitbucket", "bittrex", "meraki",
    "clickhouse", "codecov", "cohere", "coinbase", "confluent", "contentful", "databricks",
    "discord", "doppler", "dropbox", "droneci", "dynatrace", "easypost", "etsy", "facebook",
    "fastly", "finicity", "finnhub", "flickr", "flutterwave", "freshbooks", "gitter",
    "gocardless", "grafana", "hashicorp", "hubspot", "huggingface", "hf", "intercom", "jfrog",
    "artifactory", "kraken", "kucoin", "launchdarkly", "linear", "linkedin", "lob", "looker",
    "mailchimp", "mattermost", "messagebird", "netlify", "newrelic", "relic", "nytimes",
    "plaid", "planetscale", "postman", "prefect", "pulumi", "rapidapi", "readme", "rubygems",
    "sendbird", "sendinblue", "brevo", "shippo", "snyk", "sonar", "sourcegraph", "square",
    "squarespace", "sumologic", "telegram", "travis", "twitch", "twitter", "typeform",
    "yandex", "zendesk", "alibaba", "tencent", "ibm", "oracle", "linode", "vultr", "hetzner",
    "scaleway", "ovh", "mongodb", "atlas", "redis", "elastic", "pinecone", "groq", "mistral",
    "replicate", "perplexity", "deepseek", "gemini", "bedrock", "openrouter", "honeycomb",
    "splunk", "pagerduty", "opsgenie", "rollbar", "bugsnag", "loggly", "logdna", "papertrail",
    "circleci", "buildkite", "jenkins", "vercel", "render", "railway", "supabase", "neon",
    "turso", "upstash", "cloudinary", "imgur", "giphy", "spotify", "zoom", "webex", "vonage",
    "plivo", "nexmo", "mailjet", "postmark", "mandrill", "sparkpost", "klaviyo", "salesforce",
    "freshdesk", "braintree", "adyen", "razorpay", "paddle", "chargebee", "recurly",
    "binance", "alchemy", "infura", "etherscan", "moralis", "nasa", "weather", "openweather",
    "maxmind", "ipinfo", "shodan", "virustotal", "censys", "serpapi", "newsapi", "tomtom",
    "here", "azure_openai", "openai", "claude", "voyage", "anyscale", "together", "fireworks",
    "elevenlabs", "assemblyai", "deepgram", "stability", "runway", "langsmith", "langfuse",
    "helicone", "weaviate", "qdrant", "algolia", "typesense", "meilisearch", "ably", "pubnub",
];

/// Words of [`KEY_OWNERS`] that name a role, not a vendor: `app_client_id` is an ordinary
/// identifier, `adobe_client_id` a credential secret scanners report.
const ROLES: &[&str] = &[
    "api",
    "private",
    "secret",
    "access",
    "signing",
    "encryption",
    "master",
    "account",
    "auth",
    "session",
    "client",
    "app",
    "shared",
    "service",
    "admin",
    "consumer",
    "root",
    "deploy",
];

/// Secret compounds of two words: (second-to-last, last).
const PAIRS: &[(&[&str], &[&str])] = &[
    (KEY_OWNERS, &["key", "keys"]),
    (
        &["card", "cc", "credit", "debit", "pan"],
        &["number", "num", "no", "nr"],
    ),
    (&["credit", "debit"], &["card"]),
    (
        &["security", "social", "tax"],
        &["code", "number", "num", "no", "id"],
    ),
    (
        &["account", "routing", "bank"],
        &["number", "num", "no", "nr"],
    ),
    (&["session"], &["id"]),
    (&["webhook", "hook"], &["url", "uri"]),
    (&["insert", "ingest", "ingestion"], &["key"]),
    (&["connection", "conn"], &["string", "str"]),
];

const MAX_WORDS: usize = 16;

/// The words of `name` as byte ranges, at most [`MAX_WORDS`] (the last ones are kept).
fn words(name: &str) -> ([(usize, usize); MAX_WORDS], usize) {
    let b = name.as_bytes();
    let mut out = [(0, 0); MAX_WORDS];
    let mut n = 0;
    let mut push = |s: usize, e: usize| {
        if e > s {
            if n == MAX_WORDS {
                out.copy_within(1.., 0);
                n -= 1;
            }
            out[n] = (s, e);
            n += 1;
        }
    };
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_alphanumeric() {
            push(start, i);
            start = i + 1;
        } else if i > start && c.is_ascii_uppercase() {
            let prev = b[i - 1];
            let next_lower = b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            // fooBar | HTTPServer: a boundary before B and before S.
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                push(start, i);
                start = i;
            }
        }
        i += 1;
    }
    push(start, b.len());
    (out, n)
}

fn eq(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn ends_with_ci(word: &str, suffix: &str) -> bool {
    word.len() >= suffix.len()
        && word.as_bytes()[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Is a field named `name` sensitive by the built-in rule (see the module docs)?
pub(crate) fn builtin_sensitive(name: &str) -> bool {
    let (ws, mut n) = words(name);
    let word = |i: usize| &name[ws[i].0..ws[i].1];
    // Carrier words, and versions (`heroku_api_key_v2`, `token2`'s `2`), after the noun.
    let version = |w: &str| {
        let digits = w.strip_prefix(['v', 'V']).unwrap_or(w);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    while n > 1 && (eq(word(n - 1), CARRIERS) || version(word(n - 1))) {
        n -= 1;
    }
    if n == 0 {
        return false;
    }
    let last = word(n - 1);
    let glued = |s: &&str| {
        ends_with_ci(last, s) && {
            let head = &last[..last.len() - s.len()];
            head.is_empty() || eq(head, PREFIXES)
        }
    };
    if eq(last, WORDS) || SUFFIXES.iter().any(glued) {
        return true;
    }
    if n >= 2
        && PAIRS
            .iter()
            .any(|(first, second)| eq(last, second) && eq(word(n - 2), first))
    {
        return true;
    }
    // A vendor's client or access id (`adobe_client_id`): secret scanners count them, while
    // a bare `client_id` is an ordinary identifier.
    n >= 3
        && eq(last, &["id"])
        && eq(word(n - 2), &["client", "access", "api", "app"])
        && eq(word(n - 3), KEY_OWNERS)
        && !eq(word(n - 3), ROLES)
}

/// Do the last words of `name` (split as above) equal `tail` (lower-case words), in any
/// case? `memberCode` and `x-member-code` end with `["member", "code"]`. No allocation.
pub(crate) fn ends_with_words(name: &str, tail: &[String]) -> bool {
    let (ws, n) = words(name);
    !tail.is_empty()
        && tail.len() <= n
        && ws[n - tail.len()..n]
            .iter()
            .zip(tail)
            .all(|(&(s, e), w)| name[s..e].eq_ignore_ascii_case(w))
}

/// The lower-case words of `name` joined by `_`: how user-given names are compared.
pub(crate) fn normalize(name: &str) -> String {
    let (ws, n) = words(name);
    let mut out = String::with_capacity(name.len());
    for (i, (s, e)) in ws[..n].iter().enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.push_str(&name[*s..*e].to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_the_way_people_write_names() {
        let split = |s: &str| {
            let (w, n) = words(s);
            w[..n]
                .iter()
                .map(|(a, b)| s[*a..*b].to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(split("X-Api-Key"), ["X", "Api", "Key"]);
        assert_eq!(split("clientSecret"), ["client", "Secret"]);
        assert_eq!(split("HTTPServerToken"), ["HTTP", "Server", "Token"]);
        assert_eq!(split("db.password"), ["db", "password"]);
        assert_eq!(split("__a__"), ["a"]);
        assert_eq!(normalize("userAPIKey"), "user_api_key");
    }

    #[test]
    fn vendor_ids_versions_and_webhooks() {
        for name in [
            "adobe_client_id",
            "discordClientId",
            "heroku_api_key_v2",
            "access_token_2",
            "slack_webhook_url",
            "new_relic_insert_key",
            "github_pat",
            "x-psk",
        ] {
            assert!(builtin_sensitive(name), "{name}");
        }
        for name in [
            "client_id",
            "app_client_id",
            "user_id",
            "api_version_v2",
            "webhook_id",
        ] {
            assert!(!builtin_sensitive(name), "{name}");
        }
    }
}
