//! Vendor token formats, as data: one entry per format, written from the vendors' public
//! definitions (their docs, and the rule files of gitleaks, Nosey Parker, Kingfisher and
//! GitHub secret scanning's list of supported tokens).
//!
//! Adding a format is one line. A [`Vendor`] is a literal prefix and the regex of the rest:
//! the prefix feeds the prefilter (an Aho-Corasick automaton over every prefix), and only
//! where a prefix occurs — at the start of a word — is the entry's regex tried, anchored
//! there, and only then compiled (once). A clean value pays for none of it.
//! A match must also end at the end of a word: `ghp_` followed by 36 characters and then
//! more letters is something else.
//!
//! Formats whose fixed part is not at the start (Azure's identifiable keys carry a
//! signature in the middle, Mailchimp's `-us` suffix) are [`SIGNATURES`]: one regex, run
//! when one of their literals is present.

/// One vendor format: `prefix` then `body` (a regex), a whole word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vendor {
    pub(crate) name: &'static str,
    pub(crate) prefix: &'static str,
    pub(crate) body: &'static str,
    /// The prefix is a common word start (`live_`, `secret_`, `sk-`): the body must also
    /// look random — a digit, or both cases — so `live_dashboard_refresh_interval_total`
    /// stays.
    pub(crate) loose: bool,
}

const fn v(name: &'static str, prefix: &'static str, body: &'static str) -> Vendor {
    Vendor {
        name,
        prefix,
        body,
        loose: false,
    }
}

const fn loose(name: &'static str, prefix: &'static str, body: &'static str) -> Vendor {
    Vendor {
        name,
        prefix,
        body,
        loose: true,
    }
}

/// A body that does not read as words: a digit, or upper and lower case letters.
pub(crate) fn looks_random(body: &str) -> bool {
    let b = body.as_bytes();
    b.iter().any(u8::is_ascii_digit)
        || (b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase))
}

/// Every prefix-anchored vendor format.
#[rustfmt::skip]
pub(crate) const VENDORS: &[Vendor] = &[
    // --- AI and LLM providers
    v("openai_project_key", "sk-proj-", "[A-Za-z0-9_-]{40,}"),
    v("openai_service_account_key", "sk-svcacct-", "[A-Za-z0-9_-]{40,}"),
    v("openai_admin_key", "sk-admin-", "[A-Za-z0-9_-]{40,}"),
    v("anthropic_api_key", "sk-ant-api03-", "[A-Za-z0-9_-]{80,}"),
    v("anthropic_admin_key", "sk-ant-admin01-", "[A-Za-z0-9_-]{80,}"),
    v("openrouter_api_key", "sk-or-v1-", "[a-f0-9]{64}"),
    loose("generic_sk_key", "sk-", "[A-Za-z0-9_-]{20,}"),
    v("huggingface_token", "hf_", "[A-Za-z]{34}"),
    v("huggingface_org_token", "api_org_", "[A-Za-z]{34}"),
    v("groq_api_key", "gsk_", "[A-Za-z0-9]{52}"),
    v("perplexity_api_key", "pplx-", "[A-Za-z0-9]{48}"),
    v("replicate_api_token", "r8_", "[A-Za-z0-9]{37}"),
    v("xai_api_key", "xai-", "[A-Za-z0-9]{80}"),
    v("langsmith_api_key", "lsv2_", "(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"),
    v("nvidia_api_key", "nvapi-", "[A-Za-z0-9_-]{64}"),
    loose("fireworks_api_key", "fw_", "[A-Za-z0-9]{24,}"),
    v("elevenlabs_api_key", "sk_", "[a-f0-9]{48}"),
    v("pinecone_api_key", "pcsk_", "[A-Za-z0-9_]{50,}"),
    v("cerebras_api_key", "csk-", "[a-z0-9]{48}"),
    v("anyscale_api_key", "esecret_", "[A-Za-z0-9]{26,}"),
    // --- AWS, Google, Azure, other clouds
    v("aws_access_key_id", "AKIA", "[A-Z2-7]{16}"),
    v("aws_temporary_key_id", "ASIA", "[A-Z2-7]{16}"),
    v("aws_key_id_abia", "ABIA", "[A-Z2-7]{16}"),
    v("aws_key_id_acca", "ACCA", "[A-Z2-7]{16}"),
    v("aws_key_id_a3t", "A3T", "[A-Z0-9][A-Z2-7]{16}"),
    v("aws_bedrock_api_key", "ABSK", "[A-Za-z0-9+/]{100,}={0,2}"),
    v("aws_bedrock_short_lived_key", "bedrock-api-key-", "YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]*={0,2}"),
    v("google_api_key", "AIza", "[0-9A-Za-z_-]{35}"),
    v("google_oauth_access_token", "ya29.", "[0-9A-Za-z_-]{20,}"),
    v("google_oauth_client_secret", "GOCSPX-", "[0-9A-Za-z_-]{28}"),
    v("google_oauth_refresh_token", "1//0", "[0-9A-Za-z_-]{40,}"),
    loose("alibaba_access_key_id", "LTAI", "[a-zA-Z0-9]{17,21}"),
    v("tencent_secret_id", "AKID", "[A-Za-z0-9]{32}"),
    v("yandex_api_key", "AQVN", "[A-Za-z0-9_-]{35,38}"),
    v("yandex_iam_token", "t1.", "[A-Z0-9a-z_-]+[=]{0,2}\\.[A-Z0-9a-z_-]{86}[=]{0,2}"),
    loose("yandex_static_key", "YC", "[A-Za-z0-9_-]{38}"),
    v("digitalocean_pat", "dop_v1_", "[a-f0-9]{64}"),
    v("digitalocean_oauth_token", "doo_v1_", "[a-f0-9]{64}"),
    v("digitalocean_refresh_token", "dor_v1_", "[a-f0-9]{64}"),
    loose("scaleway_access_key", "SCW", "[A-Z0-9]{17}"),
    v("cloudflare_origin_ca_key", "v1.0-", "[a-f0-9]{24}-[a-f0-9]{146}"),
    v("cloudflare_tunnel_token", "eyJhIjoi", "[A-Za-z0-9+/=]{100,}"),
    v("heroku_api_key", "HRKU-", "[A-Za-z0-9_-]{60}"),
    v("flyio_token", "fm1r_", "[A-Za-z0-9+/]{100,}={0,3}"),
    v("flyio_app_token", "fm1a_", "[A-Za-z0-9+/]{100,}={0,3}"),
    v("flyio_org_token", "fo1_", "[A-Za-z0-9_-]{43}"),
    v("flyio_token_v2", "fm2_", "[A-Za-z0-9+/]{100,}={0,3}"),
    v("netlify_pat", "nfp_", "[A-Za-z0-9]{36}"),
    v("render_api_key", "rnd_", "[A-Za-z0-9]{32}"),
    v("supabase_pat", "sbp_", "[a-f0-9]{40}"),
    v("supabase_secret_key", "sb_secret_", "[A-Za-z0-9_-]{30,}"),
    v("planetscale_token", "pscale_", "(?:tkn|oauth|pw)_[A-Za-z0-9=._-]{32,64}"),
    v("neon_api_key", "napi_", "[a-z0-9]{64}"),
    v("doppler_token", "dp.", "(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}"),
    v("vault_service_token", "hvs.", "[A-Za-z0-9_-]{24,}"),
    v("vault_batch_token", "hvb.", "[A-Za-z0-9_-]{24,}"),
    v("vault_recovery_token", "hvr.", "[A-Za-z0-9_-]{24,}"),
    loose("vault_legacy_token", "s.", "[A-Za-z0-9]{24}"),
    v("pulumi_access_token", "pul-", "[a-f0-9]{40}"),
    v("infracost_api_token", "ico-", "[A-Za-z0-9]{32}"),
    loose("octopus_deploy_api_key", "API-", "[A-Z0-9]{26}"),
    v("prefect_api_key", "pnu_", "[A-Za-z0-9]{36}"),
    v("databricks_token", "dapi", "[a-f0-9]{32}(?:-[0-9])?"),
    v("databricks_sp_secret", "dose", "[a-f0-9]{32}"),
    v("backblaze_application_key", "K00", "[0-9][A-Za-z0-9+/]{27}"),
    v("appwrite_api_key", "standard_", "[a-f0-9]{256}"),
    loose("xata_api_key", "xau_", "[A-Za-z0-9]{32,}"),
    v("fauna_secret", "fnA", "[A-Za-z0-9_-]{37}"),
    v("deno_deploy_token", "ddp_", "[A-Za-z0-9]{36}"),
    v("deno_deploy_web_token", "ddw_", "[A-Za-z0-9]{36}"),
    v("tailscale_key", "tskey-", "[a-z]+-[A-Za-z0-9]{10,}-[A-Za-z0-9]{20,}"),
    v("akamai_token", "akab-", "[a-z0-9]{16}-[a-z0-9]{16}"),
    v("openshift_token", "sha256~", "[A-Za-z0-9_-]{43}"),
    v("inngest_signing_key", "signkey-", "(?:prod|test|branch)-[a-f0-9]{64}"),
    loose("trigger_dev_key", "tr_", "(?:dev|prod|stg|preview)_[A-Za-z0-9]{20,}"),
    v("clickhouse_cloud_key", "4b1d", "[A-Za-z0-9]{38}"),
    // --- source hosting and CI/CD
    v("github_pat", "ghp_", "[A-Za-z0-9]{36,255}"),
    v("github_oauth_token", "gho_", "[A-Za-z0-9]{36,255}"),
    v("github_user_to_server_token", "ghu_", "[A-Za-z0-9]{36,255}"),
    v("github_server_to_server_token", "ghs_", "[A-Za-z0-9]{36,255}"),
    v("github_refresh_token", "ghr_", "[A-Za-z0-9]{36,255}"),
    v("github_fine_grained_pat", "github_pat_", "[A-Za-z0-9_]{50,255}"),
    v("gitlab_pat", "glpat-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_deploy_token", "gldt-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_pipeline_trigger_token", "glptt-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_runner_token", "glrt-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_runner_router_token", "glrtr-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_ci_build_token", "glcbt-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_scim_token", "glsoat-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_feature_flag_token", "glffct-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_agent_token", "glagent-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_oauth_secret", "gloas-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_feed_token", "glft-", "[0-9A-Za-z_-]{20,}"),
    v("gitlab_incoming_mail_token", "glimt-", "[0-9A-Za-z_-]{25,}"),
    v("gitlab_runner_registration_token", "GR1348941", "[A-Za-z0-9_-]{20,}"),
    v("bitbucket_app_password", "ATBB", "[A-Za-z0-9_=.-]{32,}"),
    v("atlassian_api_token", "ATATT3", "[A-Za-z0-9_=-]{100,}"),
    v("atlassian_connect_token", "ATCTT3", "[A-Za-z0-9_=-]{100,}"),
    v("circleci_token", "CCIP", "(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}"),
    v("buildkite_token", "bkua_", "[a-f0-9]{40}"),
    v("sourcegraph_token", "sgp_", "(?:local_|[a-fA-F0-9]{16}_)?[a-fA-F0-9]{40}"),
    v("sonarqube_project_token", "sqp_", "[a-f0-9]{40}"),
    v("sonarqube_user_token", "squ_", "[a-f0-9]{40}"),
    v("sonarqube_analysis_token", "sqa_", "[a-f0-9]{40}"),
    v("harness_token", "pat.", "[A-Za-z0-9_-]{22}\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{20}"),
    v("harness_sa_token", "sat.", "[A-Za-z0-9_-]{22}\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{20}"),
    v("docker_hub_token", "dckr_", "(?:pat|oat)_[A-Za-z0-9_-]{27,}"),
    v("jfrog_api_key", "AKCp", "[A-Za-z0-9]{69}"),
    v("jfrog_reference_token", "cmVmd", "[A-Za-z0-9]{59}"),
    // --- package registries
    v("npm_token", "npm_", "[A-Za-z0-9]{36}"),
    v("pypi_token", "pypi-AgEIcHlwaS5vcmc", "[A-Za-z0-9_-]{50,}"),
    v("test_pypi_token", "pypi-AgENdGVzdC5weXBpLm9yZw", "[A-Za-z0-9_-]{50,}"),
    v("rubygems_api_key", "rubygems_", "[a-f0-9]{48}"),
    loose("nuget_api_key", "oy2", "[a-z0-9]{43}"),
    v("clojars_token", "CLOJARS_", "[a-z0-9]{60}"),
    loose("crates_io_token", "cio", "[A-Za-z0-9]{32}"),
    v("packagist_token", "packagist_", "[ou]u[ta]_[A-Za-z0-9]{68}"),
    // --- payments and commerce
    loose("stripe_secret_key", "sk_", "(?:live|test|prod)_[0-9A-Za-z]{10,247}"),
    loose("stripe_restricted_key", "rk_", "(?:live|test|prod)_[0-9A-Za-z]{10,247}"),
    v("stripe_webhook_secret", "whsec_", "[0-9A-Za-z]{24,}"),
    v("square_access_token", "EAAA", "[A-Za-z0-9_-]{22,60}"),
    v("square_token", "sq0", "(?:atp|csp|idp)-[0-9A-Za-z_-]{22,43}"),
    v("shopify_token", "shp", "(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    v("paypal_braintree_token", "access_token$", "(?:production|sandbox)\\$[a-z0-9]{16}\\$[a-f0-9]{32}"),
    v("flutterwave_secret_key", "FLWSECK", "(?:_TEST)?-[a-f0-9]{32}-X"),
    v("flutterwave_encryption_key", "FLWSECK_TEST", "[a-f0-9]{12}"),
    v("razorpay_key", "rzp_", "(?:live|test)_[A-Za-z0-9]{14}"),
    v("easypost_api_key", "EZAK", "[A-Za-z0-9]{54}"),
    v("easypost_test_key", "EZTK", "[A-Za-z0-9]{54}"),
    v("shippo_token", "shippo_", "(?:live|test)_[a-fA-F0-9]{40}"),
    v("duffel_token", "duffel_", "(?:live|test)_[A-Za-z0-9_=-]{43}"),
    loose("live_secret_key", "live_", "[A-Za-z0-9_=-]{35,}"),
    loose("lob_test_key", "test_", "[a-f0-9]{35}"),
    v("woocommerce_consumer_key", "ck_", "[a-f0-9]{40}"),
    v("woocommerce_consumer_secret", "cs_", "[a-f0-9]{40}"),
    v("plaid_access_token", "access-", "(?:sandbox|development|production)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"),
    // --- messaging, e-mail, webhooks
    v("slack_token", "xox", "[abposre]-(?:[0-9]+-)+[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*"),
    v("slack_legacy_token", "xox", "[ar]-(?:[0-9]-)?[0-9A-Za-z]{8,48}"),
    v("slack_config_token", "xoxe", "\\.xox[bp]-[0-9]-[A-Za-z0-9]{160,}"),
    v("slack_app_token", "xapp-", "[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+"),
    v("sendgrid_api_key", "SG.", "[0-9A-Za-z_-]{22}\\.[0-9A-Za-z_-]{43}"),
    v("mailgun_api_key", "key-", "[0-9a-f]{32}"),
    v("brevo_api_key", "xkeysib-", "[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    v("brevo_smtp_key", "xsmtpsib-", "[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    v("twilio_api_key", "SK", "[0-9a-fA-F]{32}"),
    v("resend_api_key", "re_", "[A-Za-z0-9]{8}_[A-Za-z0-9]{24}"),
    v("notion_token", "ntn_", "[0-9]{11}[A-Za-z0-9]{35}"),
    loose("notion_integration_secret", "secret_", "[A-Za-z0-9]{43}"),
    v("linear_api_key", "lin_api_", "[a-zA-Z0-9]{40}"),
    v("linear_oauth_token", "lin_oauth_", "[a-f0-9]{64}"),
    v("figma_token", "figd_", "[A-Za-z0-9_-]{40}"),
    v("dropbox_short_lived_token", "sl.", "[A-Za-z0-9_-]{130,}"),
    v("airtable_pat", "pat", "[A-Za-z0-9]{14}\\.[a-f0-9]{64}"),
    v("typeform_token", "tfp_", "[A-Za-z0-9_=.-]{59}"),
    v("hubspot_pat", "pat-", "(?:na|eu)[0-9]-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"),
    v("clickup_token", "pk_", "[0-9]{6,8}_[A-Z0-9]{32}"),
    v("contentful_pat", "CFPAT-", "[A-Za-z0-9_-]{43}"),
    v("readme_api_key", "rdme_", "[a-z0-9]{70}"),
    v("frameio_token", "fio-u-", "[A-Za-z0-9_=-]{64}"),
    v("intercom_token", "dG9rOj", "[A-Za-z0-9+/=_-]{30,}"),
    loose("facebook_access_token", "EAA", "[A-Za-z0-9]{90,}"),
    v("twitter_bearer_token", "AAAAAAAAAAAAAAAAAAAAA", "[A-Za-z0-9%]{30,}"),
    v("mapbox_secret_token", "sk.", "[A-Za-z0-9]{60,}\\.[A-Za-z0-9_-]{22}"),
    v("riot_api_key", "RGAPI-", "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"),
    v("stytch_secret", "secret-", "(?:live|test)-[A-Za-z0-9_=-]{36}"),
    v("settlemint_token", "sm_", "(?:aat|pat|sat)_[A-Za-z0-9]{16}"),
    v("scalingo_token", "tk-us-", "[A-Za-z0-9_-]{48}"),
    v("defined_networking_token", "dnkey-", "[a-z0-9=_-]{26}-[a-z0-9=_-]{52}"),
    v("gitter_token", "gitter_", "[a-f0-9]{40}"),
    // --- observability
    v("new_relic_user_key", "NRAK-", "[A-Za-z0-9]{27}"),
    v("new_relic_insert_key", "NRII-", "[A-Za-z0-9_-]{32}"),
    v("new_relic_browser_key", "NRJS-", "[a-f0-9]{19}"),
    v("new_relic_license_key", "NRAL-", "[A-Za-z0-9]{27,}"),
    v("grafana_cloud_token", "glc_", "[A-Za-z0-9+/]{32,}={0,2}"),
    v("grafana_service_account_token", "glsa_", "[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    v("grafana_api_key", "eyJrIjoi", "[A-Za-z0-9=]{60,400}"),
    v("sentry_org_token", "sntrys_", "[A-Za-z0-9+/=_]{50,}"),
    v("sentry_user_token", "sntryu_", "[a-f0-9]{64}"),
    v("dynatrace_token", "dt0c01.", "[A-Z0-9]{24}\\.[A-Z0-9]{64}"),
    v("postman_api_key", "PMAK-", "[a-f0-9]{24}-[a-f0-9]{34}"),
    // --- identity, secrets managers, keys
    v("age_secret_key", "AGE-SECRET-KEY-1", "[0-9A-Z]{58}"),
    v("onepassword_secret_key", "A3-", "[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
    v("onepassword_service_token", "ops_eyJ", "[A-Za-z0-9+/=]{250,}"),
    v("firebase_cloud_messaging_key", "AAAA", "[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}"),
];

/// Formats whose fixed part is inside the token: one regex (capture group `s` where only
/// part of the match is secret), run only when one of [`SIGNATURE_LITERALS`] is present.
pub(crate) const SIGNATURES: &str = concat!(
    r"(?-u:\b)(?:",
    // Microsoft's identifiable keys (security-utilities): a signature at a fixed place.
    r"[A-Za-z0-9+/]{76}\+ASt[A-Za-z0-9+/]{5}[AD]==", // storage account key
    r"|[A-Za-z0-9_-]{44}AzFu[A-Za-z0-9_-]{5}[AD]==", // Functions key
    r"|[A-Za-z0-9+/]{42}\+ACR[A-Za-z0-9+/]{6}",      // Container Registry
    r"|[A-Za-z0-9]{76}APIM[A-Za-z0-9]{5}[AD]",       // API Management
    r"|[A-Za-z0-9+/]{76}ACDb[A-Za-z0-9+/]{5}[AD]==", // Cosmos DB
    r"|[A-Za-z0-9+/]{33}\+A(?:Sb|Eh|Rm)[A-Za-z0-9+/]{5}=", // Service Bus, Event Hubs, Relay
    r"|[A-Za-z0-9]{42}AzSe[A-Za-z0-9]{6}",           // AI Search
    r"|[A-Za-z0-9+/]{33}AIoT[A-Za-z0-9+/]{5}=",      // IoT Hub
    r"|[A-Za-z0-9]{33}AzCa[A-Za-z0-9]{5}=",          // Cache for Redis
    r"|[A-Za-z0-9]{52}JQQJ9(?:9|D|H)[A-Za-z0-9][A-L][A-Za-z0-9]{16}[A-Za-z][A-Za-z0-9]{7}(?:[A-Za-z0-9]{2}==)?", // AI services
    r"|[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}", // DevOps PAT
    r"|[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}", // Entra ID client secret
    // Salesforce access tokens: org id, `!`, session.
    r"|00D[A-Za-z0-9]{12,15}![A-Za-z0-9_.]{96}",
    // Terraform Cloud / HCP tokens.
    r"|[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
    // MaxMind license keys.
    r"|[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk",
    // Mailchimp API keys: 32 hex digits and the datacenter.
    r"|[0-9a-f]{32}-us[0-9]{1,2}",
    r")(?-u:\b)",
    // Telegram bot tokens sit right after `/bot` in API URLs: no word boundary before them.
    r"|[0-9]{5,16}:A[0-9A-Za-z_-]{34}",
);

/// The literals one of which each of [`SIGNATURES`] contains.
#[rustfmt::skip]
pub(crate) const SIGNATURE_LITERALS: &[&str] = &[
    "+ASt", "AzFu", "+ACR", "APIM", "ACDb", "+ASb", "+AEh", "+ARm", "AzSe", "AIoT", "AzCa",
    "JQQJ9", "AZDO", "Q~", "00D", ".atlasv1.", "_mmk", "-us", ":A",
];

/// A vendor's regex, anchored at the start of the prefix.
pub(crate) fn anchored(v: &Vendor) -> String {
    format!("^{}(?:{})", regex_escape(v.prefix), v.body)
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Redactor;
    use rand::SeedableRng;

    /// Examples of the format, and its shortest length.
    fn samples(v: &Vendor, n: usize) -> (Vec<String>, usize) {
        let pattern = format!("{}(?:{})", regex_escape(v.prefix), v.body);
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(&pattern)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let min = hir.properties().minimum_len().unwrap_or(0);
        let gen = rand_regex::Regex::with_hir(hir, 40).expect("generator");
        let mut rng = rand::rngs::StdRng::seed_from_u64(v.name.len() as u64);
        let mut out = Vec::new();
        while out.len() < n {
            let s: String = rand::Rng::sample(&mut rng, &gen);
            if !v.loose || looks_random(&s[v.prefix.len()..]) {
                out.push(s);
            }
        }
        (out, min)
    }

    #[test]
    fn every_format_compiles_and_has_a_distinct_name() {
        let mut names = std::collections::HashSet::new();
        for v in VENDORS {
            assert!(names.insert(v.name), "{} twice", v.name);
            regex::Regex::new(&anchored(v)).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert!(!v.prefix.is_empty());
        }
        regex::Regex::new(SIGNATURES).unwrap();
    }

    #[test]
    fn every_format_is_redacted_in_text_and_json_and_not_when_glued_or_short() {
        let r = Redactor::default();
        for v in VENDORS {
            let (examples, min) = samples(v, 3);
            for s in examples {
                for text in [
                    format!("upstream rejected {s} twice"),
                    format!("{{\"value\":\"{s}\",\"n\":1}}"),
                    format!("Authorization failed for {s}"),
                ] {
                    let out = r.redact_text(&text);
                    assert!(!out.contains(&s), "{}: {text} -> {out}", v.name);
                }
                // Negatives: glued to a word before it, or cut short.
                let glued = format!("x{s} ok");
                assert!(
                    !r.find(&glued).contains(&v.name),
                    "{}: fired inside a word: {glued}",
                    v.name
                );
                let short = &s[..min - 1];
                let text = format!("short {short} ok");
                if short.len() >= v.prefix.len() + 8 {
                    assert!(
                        !r.find(&text).contains(&v.name),
                        "{}: fired on a third of a token: {text}",
                        v.name
                    );
                }
            }
        }
    }

    #[test]
    fn loose_prefixes_leave_words_alone() {
        let r = Redactor::default();
        for text in [
            "live_dashboard_refresh_interval_seconds_total updated",
            "secret_rotation_schedule_for_the_payments_cluster_is_weekly",
            "test_user_profile_page_loads_without_errors_in_safari",
            "sk-learn-pipeline-for-the-recommendations-model",
        ] {
            assert_eq!(r.redact_text(text), text);
        }
    }
}
