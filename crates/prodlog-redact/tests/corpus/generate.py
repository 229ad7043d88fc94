#!/usr/bin/env python3
"""Writes corpus.jsonl: prodlog's own redaction cases (same schema as the shared external set).

Secrets are generated from each format's definition (prefix, alphabet, length, checksum) with a
fixed seed; look-alikes are values a service really logs. Re-run to regenerate:
    python3 crates/prodlog-redact/tests/corpus/generate.py
"""
import base64, json, os, random, string

rng = random.Random(20261125)
AN = string.ascii_letters + string.digits
UP = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
cases = []

def r(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))

def add(kind, where, value, secret=None, field=None, category=""):
    cases.append({"id": f"{kind[0]}{len(cases):04d}", "kind": kind, "where": where,
                  "field": field, "value": value, "secret": secret, "category": category})

def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    for check in range(10):
        ds = digits + [check]
        total = 0
        for i, d in enumerate(reversed(ds)):
            if i % 2 == 1:
                d *= 2
                if d > 9: d -= 9
            total += d
        if total % 10 == 0:
            return "".join(map(str, ds))

def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")

def jwt():
    header = b64url(json.dumps({"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": r(string.digits, 8), "name": r(string.ascii_lowercase, 6), "iat": 1700000000 + rng.randrange(10**6)}).encode())
    return f"{header}.{payload}.{b64url(os.urandom(32) if False else bytes(rng.randrange(256) for _ in range(32)))}"

# --- secrets by value, in free text and under innocent field names -----------------------------
tokens = {
    "aws_access_key_id": lambda: rng.choice(["AKIA", "ASIA"]) + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
    "github_token": lambda: rng.choice(["ghp_", "gho_", "ghs_", "ghu_"]) + r(AN, 36),
    "github_pat": lambda: "github_pat_" + r(AN, 22) + "_" + r(AN, 59),
    "gitlab_token": lambda: "glpat-" + r(AN + "_-", 20),
    "slack_token": lambda: f"xox{rng.choice('bpa')}-{r(string.digits, 11)}-{r(string.digits, 12)}-{r(AN, 24)}",
    "stripe_key": lambda: rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + r(AN, 24),
    "google_api_key": lambda: "AIza" + r(AN + "_-", 35),
    "openai_key": lambda: "sk-proj-" + r(AN + "_-", 48),
    "anthropic_key": lambda: "sk-ant-api03-" + r(AN + "_-", 93),
    "npm_token": lambda: "npm_" + r(AN, 36),
    "sendgrid_key": lambda: "SG." + r(AN + "_-", 22) + "." + r(AN + "_-", 43),
    "huggingface_token": lambda: "hf_" + r(string.ascii_letters, 34),
    "jwt": jwt,
}
contexts = [
    "request failed with credential {}",
    "using {} for the upstream call",
    "{}",
    "retrying ({}) after 429",
    "config loaded: {} (from env)",
    "[{}]",
]
for cat, gen in tokens.items():
    for i in range(6):
        secret = gen()
        add("secret", "text", contexts[i].format(secret), secret, category=cat)
    for name in ["detail", "value", "arg"]:
        secret = gen()
        add("secret", "field", secret, secret, field=name, category=cat)

# AWS secret access keys: 40 base64 characters, in context
for ctx in ["aws secret key {}", "AWS_SECRET_ACCESS_KEY={}", "using secret {} for s3", "aws: {} (rotated)"]:
    secret = base64.b64encode(bytes(rng.randrange(256) for _ in range(30))).decode()
    add("secret", "text", ctx.format(secret), secret, category="aws_secret_access_key")

# PEM private keys, whole and cut short
for kind in ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]:
    body = "\n".join(r(AN + "+/", 64) for _ in range(3))
    add("secret", "field", f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----", body, field="body", category="private_key_pem")
    add("secret", "text", f"loaded key -----BEGIN {kind}-----\n{body[:40]}", body[:40], category="private_key_pem")

# Authorization headers and bearer tokens
for scheme in ["Bearer", "Basic", "Token", "Digest"]:
    secret = r(AN + "+/=", 32) if scheme != "Basic" else base64.b64encode(f"{r(string.ascii_lowercase, 6)}:{r(AN, 10)}".encode()).decode()
    add("secret", "text", f"outgoing headers: Authorization: {scheme} {secret}", secret, category="auth_header")
    add("secret", "text", f'{{"authorization":"{scheme} {secret}","accept":"*/*"}}', secret, category="auth_header")
for _ in range(4):
    secret = r(AN + "-._~", 40)
    add("secret", "text", f"curl -H 'Bearer {secret}' https://api.example.com", secret, category="bearer")
    cookie = r(AN, 32)
    add("secret", "text", f"Cookie: session={cookie}; theme=dark", cookie, category="cookie")

# credentials in URLs, secrets in query strings
for scheme in ["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp", "https", "ftp", "rediss"]:
    pw = r(AN + "!$%*", 14)
    add("secret", "text", f"connecting to {scheme}://svc_user:{pw}@db-{r(string.ascii_lowercase, 4)}.internal:5432/app", pw, category="url_credentials")
    pw = r(AN, 12)
    add("secret", "field", f"{scheme}://admin:{pw}@10.0.0.{rng.randrange(255)}/db", pw, field="url", category="url_credentials")
for key in ["token", "access_token", "api_key", "apikey", "password", "client_secret", "sig", "X-Amz-Signature", "auth_token", "secret"]:
    secret = r(AN, 28)
    add("secret", "text", f"GET /v1/items?page=2&{key}={secret}&sort=asc 200", secret, category="query_param")

# key=value, key: value, JSON (nested, escaped), Debug output
for key in ["password", "passwd", "db_password", "secret", "api_key", "apiKey", "client_secret", "access_token", "private_key", "auth_token", "refreshToken", "X-Api-Key", "stripe_key", "aws_secret_access_key"]:
    secret = r(AN + "!@#%^&*", 16)
    add("secret", "text", f"{key}={secret} user=alice", secret, category="key_value")
    secret = r(AN, 16)
    add("secret", "text", f'{{"user":{{"name":"bob","{key}":"{secret}"}}}}', secret, category="json_pair")
    secret = r(AN, 16)
    add("secret", "text", f'payload: {{\\"{key}\\":\\"{secret}\\"}}', secret, category="escaped_json_pair")
    secret = r(AN, 16)
    add("secret", "text", f'Config {{ host: "db", {key}: "{secret}", port: 5432 }}', secret, category="debug_struct")

# field names: any spelling, whatever the value holds
names = ["password", "Password", "PASSWORD", "user_password", "db-password", "dbPassword", "clientSecret",
         "client_secret", "X-Api-Key", "x_api_key", "apiKey", "api_key", "access_token", "accessToken",
         "refresh_token", "authorization", "Authorization", "cookie", "set-cookie", "Set-Cookie", "ssn",
         "card_number", "cardNumber", "cvv", "private_key", "privateKey", "secret", "token", "auth_token",
         "passphrase", "pwd", "pin", "otp", "credentials", "aws_secret_access_key", "stripe_key",
         "session_id", "jwt", "password_hash", "new_password", "github_token", "webhook_secret"]
for name in names:
    value = rng.choice(["hunter2", "correct horse battery staple", r(AN, 12), "918273", "opensesame"])
    add("secret", "field", value, value, field=name, category="field_name")

# payment cards (spaces, dashes, none) and US SSNs
for prefix, length in [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("35", 16), ("62", 18)]:
    for sep in ["", " ", "-"]:
        card = luhn_complete(prefix, length)
        if sep and length == 16:
            shown = sep.join(card[i:i + 4] for i in range(0, 16, 4))
        else:
            shown = card
        add("secret", "text", f"charge declined for card {shown} (insufficient funds)", shown, category="card_number")
for _ in range(8):
    ssn = f"{rng.randrange(1, 665):03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"
    add("secret", "text", f"applicant ssn {ssn} verified", ssn, category="us_ssn")

# more formats: Maestro and Mir cards, SSNs with spaces, IBANs, CLI flags, webhook and bot URLs
for prefix, length in [("6759", 16), ("5018", 16), ("2201", 16)]:
    card = luhn_complete(prefix, length)
    add("secret", "text", f"card on file {card} expired", card, category="card_number")
for _ in range(3):
    ssn = f"{rng.randrange(1, 665):03d} {rng.randrange(1, 100):02d} {rng.randrange(1, 10000):04d}"
    add("secret", "text", f"ssn {ssn} on the form", ssn, category="us_ssn")

def iban(country, bban):
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"
for country, bban in [("DE", "370400440532013000"), ("GB", "WEST12345698765432"), ("FR", "20041010050500013M02606"), ("NL", "ABNA0417164300")]:
    value = iban(country, bban)
    add("secret", "text", f"refund to IBAN {value} queued", value, category="iban")
for flag in ["--password", "--db-password", "--api-key", "--token", "-secret"]:
    secret = r(AN, 14)
    add("secret", "text", f"exec: pg_dump {flag} {secret} --host db", secret, category="cli_flag")
tg = f"{rng.randrange(10**8, 10**9)}:AA{r(AN + '_-', 33)}"
add("secret", "text", f"POST https://api.telegram.org/bot{tg}/sendMessage", tg, category="telegram")
hook = r(AN + "_-", 68)
add("secret", "text", f"notify https://discord.com/api/webhooks/{rng.randrange(10**17, 10**18)}/{hook}", hook, category="webhook")
basic = base64.b64encode(b"deploy:" + r(AN, 12).encode()).decode()
add("secret", "text", f"proxy said: Basic {basic} rejected", basic, category="auth_header")
mc = r(HEX, 32) + "-us" + str(rng.randrange(1, 21))
add("secret", "field", mc, mc, field="detail", category="mailchimp_key")

# --- innocents: must come out byte for byte -------------------------------------------------------
import uuid
def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
innocent_text = []
for _ in range(12):
    innocent_text.append(f"order {uid()} shipped")
    innocent_text.append(f"deployed commit {r(HEX, 40)}")
    innocent_text.append(f"merged {r(HEX, 7)} into main")
for _ in range(8):
    innocent_text.append(f"took {rng.randrange(1, 9999)} ms at 2026-{rng.randrange(1,13):02d}-{rng.randrange(1,29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**6):06d}Z")
    innocent_text.append(f"epoch {1700000000000 + rng.randrange(10**10)} processed")
    innocent_text.append(f"ORD-{rng.randrange(2020, 2027)}-{rng.randrange(10**6):06d} created")
    # digit runs that fail Luhn, or have no card issuer prefix
    n = luhn_complete("4", 16)
    bad = n[:-1] + str((int(n[-1]) + 1) % 10)
    innocent_text.append(f"tracking number {bad}")
    innocent_text.append(f"snowflake id {luhn_complete('1', 19)}")
    innocent_text.append(f"invoice 9{r(string.digits, 15)} paid")
innocent_text += [
    "payment processed", "user logged in", "cache miss for key user:42", "retrying in 5s",
    "GET /api/v1/users/42 200 12ms", "listening on 0.0.0.0:8080", "connected to postgres://db.internal:5432/app",
    "https://example.com/search?q=rust&page=2", "token_count=512 model=small", "tokenizer loaded",
    "password reset requested for user 42", "secret_length = 32", "public_key = \"MCowBQYDK2VwAyEA\"",
    "key_name = \"primary\"", "session_count: 12", "the bearer of good news", "api version 2.3.1",
    "sha256:" + r(HEX, 64), "image ghcr.io/acme/app@sha256:" + r(HEX, 64), "phone +1 415 555 0100",
    "ip 192.168.10.42 port 443", "contact alice@example.com", "file /var/lib/app/data.db opened",
    "k8s pod api-7d9f8b6c5d-x2x9z ready", "semver 1.2.3-rc.1+build.5", "color #ff8800",
    "2026-11-25 deployed", "Monday 09:30 standup", "ratio 0.875 approved true", "queue depth 1024",
    "AKIA is the prefix of AWS key ids", "sk_live_ keys go in the vault", "eyJ starts a JWT header",
    "Authorization header missing", "cookie consent banner shown", "card declined", "ssn field empty",
    "bucket_key = \"reports-2026\"", "cache_key: v2:user:42", "idempotency_key=8f14e45f", "sort_key=created_at",
    "kms_key_id: " + uid(), "client_id = \"" + uid() + "\"", "user_id=42 account_id=7",
    "the private key file was rotated", "pinned version 1.4", "otpauth is configured", "signature verified",
    "x-request-id: " + uid(), "content-type: application/json", "accept-encoding: gzip",
    "secret rotated in commit " + r(HEX, 40), "aws region us-east-1 bucket reports-2026",
    "AIDAN joined the team", "ASIAN markets opened", "xoxo from the team", "github_pat_ prefix documented",
    "glpat-123", "npm_install finished", "hf_hub cache warm", "SG.example", "dapi docs",
    "pg_dump --password-file /etc/pgpass --host db", "--token-count 512 --verbose",
    "IBAN DE89370400440532013001 rejected (bad checksum)", "basic auth is enabled",
    "phone 415 555 0100 on file", "the --secret flag is deprecated",
]
for t in innocent_text:
    add("innocent", "text", t, category="look_alike")
innocent_fields = [("request_id", uid()), ("commit", r(HEX, 40)), ("token_count", "512"), ("tokenizer", "bpe"),
                   ("secret_length", "32"), ("public_key", "MCowBQYDK2VwAyEAq3"), ("key_name", "primary"),
                   ("password_reset_requested", "true"), ("token_expires_at", "2026-11-25T10:00:00Z"),
                   ("kms_key_id", uid()), ("session_count", "3"), ("user", "alice"), ("email", "bob@example.com"),
                   ("path", "/api/v1/users"), ("url", "https://example.com/a?b=c"), ("status", "200"),
                   ("password_policy", "min 12 chars"), ("auth_method", "oidc"), ("cookie_name", "sid"),
                   ("card_brand", "visa"), ("card_last4", "4242"), ("pin_code_length", "6"), ("otp_sent", "true")]
for name, value in innocent_fields:
    add("innocent", "field", value, field=name, category="innocent_field")

# --- the syntaxes secrets really appear in, with no sensitive field name to help ---------------
def pw():
    return r(string.ascii_lowercase, 3) + r(string.digits, 2) + r(string.ascii_uppercase, 2) + r(AN, 4)
syntaxes = [
    "mysql --password={} -h db.internal", "mysqldump -u root -p{} orders", "mysql -u app -p {} orders",
    "curl -u deploy:{} https://api.example.com/v1", "curl --user ci:{} https://x.example.com",
    "java -Ddb.password={} -jar app.jar", "java -Dspring.datasource.password={} -jar svc.jar",
    "deploy --token \"{}\" --env prod", "deploy --api-key '{}'", "sshpass -p {} ssh ops@bastion",
    "<add key=\"DbPassword\" value=\"{}\"/>", "<add key=\"StripeSecretKey\" value=\"{}\" />",
    "Config {{\n    password: Some(\n        \"{}\",\n    ),\n}}",
    "{{\"x-api-key\": [\"{}\"]}}", "Credential(\"alice\", \"{}\")", "BasicAuth(\"svc\", \"{}\")",
    "Authorization: Digest username=\"bob\", realm=\"api\", response=\"{}\"",
    "Proxy-Authorization: Basic {}", "Set-Cookie: sessionid={}; HttpOnly; Path=/",
    "dsn app:{}@tcp(db.internal:3306)/orders", "redis://:{}@cache.internal:6379/0",
    "connecting scott/{}@//db.example.com:1521/ORCL", "Server=tcp:sql.example.net;Database=db;User ID=sa;Password={};Encrypt=true",
    "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={};EndpointSuffix=core.windows.net",
    "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={}",
    "db.internal:5432:orders:app:{}", "machine api.example.com login bob password {}",
    "ado_pat={}", "Ocp-Apim-Subscription-Key: {}", "preshared key: {}", "unseal key 1: {}",
    "vpn_secret_key={}", "export GITLAB_PAT=\"{}\"", "redis-cli -h cache -a {} ping",
    "docker login -u ci -p {} registry.example.com", "PGPASSWORD={} psql -h db -U app",
]
for t in syntaxes:
    value = r(HEX, 32) if "response" in t else pw()
    add("secret", "text", t.format(value), secret=value, category="syntax")
hashes = ["$2b$12$" + r(AN + "./", 53), "$6$rounds=5000$" + r(AN, 8) + "$" + r(AN + "./", 86),
          "$argon2id$v=19$m=65536,t=3,p=4$" + r(AN, 22) + "$" + r(AN + "+/", 43),
          "pbkdf2_sha256$600000$" + r(AN, 22) + "$" + r(AN + "+/", 43) + "="]
for h in hashes:
    add("secret", "text", f"stored hash {h} for user 7", secret=h, category="password_hash")
for _ in range(3):
    n = luhn_complete(rng.choice(["4", "6011", "35"]), 19)
    spaced = " ".join([n[0:4], n[4:8], n[8:12], n[12:16], n[16:]])
    add("secret", "text", f"card {spaced} declined", secret=spaced, category="card_19")

for key in ["adobe_client_id", "heroku_api_key_v2", "slack_webhook_url", "new_relic_insert_key", "1password_secret_key"]:
    value = r(HEX, 32)
    add("secret", "text", f"{key}={value}", secret=value, category="key_vocabulary")
    add("secret", "text", json.dumps({key: value}), secret=value, category="key_vocabulary")
for url in ["https://contoso.webhook.office.com/webhookb2/{}@72f988bf-86f1-41af-91ab-2d7cd011db47/IncomingWebhook/{}/{}",
            "https://hooks.zapier.com/hooks/catch/{}/{}/"]:
    a, b2, c = r(string.digits, 7), r(string.ascii_lowercase + string.digits, 32), r(HEX, 8)
    value = url.format(a, b2, c)
    secret = b2
    add("secret", "text", f"posting alert to {value}", secret=secret, category="webhook")
for t in ["login failed with password {} for bob", "invalid token {}", "the api key is {}", "user secret was {}"]:
    value = pw()
    add("secret", "text", t.format(value), secret=value, category="prose")
for t in ["password reset requested for user 42", "token expired at 2026-11-30T10:00:00Z", "password policy requires 12 chars",
          "secret rotated in commit " + r(HEX, 40), "token refresh took 250 ms", "password is incorrect for user 7"]:
    add("innocent", "text", t, category="prose")
for key in ["client_id", "app_client_id", "api_version_v2"]:
    add("innocent", "text", f"{key}={r(HEX, 12)}", category="precision")

# --- precision: a sensitive key followed by something that is not a secret -----------------------
precision = [
    "Access denied for user 'root'@'localhost' (using password: YES)", "(using password: NO)",
    "UPDATE users SET password_hash = $1 WHERE id = $2", "SELECT id FROM users WHERE password = ?",
    "update accounts set pw = :pw where id = :id", "password=$DB_PASSWORD", "password=${DB_PASSWORD}",
    "password=%DB_PASSWORD%", "token={{ vault_token }}",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/db-password-" + r(AN, 6),
    "\"Password:\"", "has_password=true", "max_tokens=4096 prompt_tokens=12 completion_tokens=55 tokens_used=67",
    "core::pin::Pin<P> as core::future::Future", "app::auth::password::check (src/auth.rs:10:5)",
    "fn login_without_secrets returned", "module auth::http started", "cache key auth:user:291326 missing",
    "token:refresh scheduled", "secret:rotation done", "GET /api/auth:login 200",
    "password: ********", "password=[hidden]", "password=<redacted>", "password: null", "api_key=None",
    "{\"password\": null}", "auth=ok", "auth: bearer", "pin=false",
    "token_type=Bearer expires_in=3600", "Authorization: Bearer", "user login -p 8080 started",
    "secret_name=prod/db/password version=3", "GET /api/v1/tokens?limit=20 200 14ms",
    "max_output_tokens=2048 temperature=0.7", "password_changed_at=2026-11-30T10:00:00Z",
]
for t in precision:
    add("innocent", "text", t, category="precision")

# --- realistic clean traffic: ids, trace ids, cache keys, routes, URLs ---------------------------
def luhn_uuid():
    while True:
        d = luhn_complete("4", 16)
        u = f"{d[:8]}-{d[8:12]}-4{r(string.digits, 3)}-8{r(string.digits, 3)}-{r(string.digits, 12)}"
        return u
for _ in range(6):
    add("innocent", "text", f"request_id={luhn_uuid()} status=200", category="traffic")
    add("innocent", "text", f"trace_id={r(HEX, 32)} span_id={r(HEX, 16)}", category="traffic")
    add("innocent", "text", f"GET /api/v1/orders/{r(string.digits, 7)}?page=2&limit=50 200 {rng.randrange(1, 900)}ms", category="traffic")
    add("innocent", "text", f"cache hit session:user:{r(string.digits, 6)} ttl=300", category="traffic")
    add("innocent", "text", f"request {luhn_complete('4', 16)}-{r(string.digits, 4)} done", category="traffic")

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "corpus.jsonl"), "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(len(cases), "cases:", sum(c["kind"] == "secret" for c in cases), "secrets")
