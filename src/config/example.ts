/**
 * A commented config.toml that loads as it is (a test holds it to that): what `s3jit init`
 * writes and what the README shows. Every key is present, set or commented out, with its default.
 */
export function exampleConfig(): string {
  return `# s3jit configuration. Durations are a number and a unit: 30s, 30m, 2h, 1h30m, 1d.

[daemon]
port = 17810            # loopback port of the credentials endpoint (0 = any free port)
keychain = "os"         # "os" (the OS keychain) or "memory" (nothing survives a restart)

# An IAM Identity Center instance. Either name its access portal and region here...
[sso.corp]
start_url = "https://corp.awsapps.com/start"
region = "eu-west-1"
# registration_scopes = ["sso:account:access"]   # always includes sso:account:access
auto_login = false      # true: the daemon may open a browser by itself when a login is needed
# ...or reuse an [sso-session NAME] of the AWS CLI config (~/.aws/config or AWS_CONFIG_FILE)
# instead of start_url, region and registration_scopes:
# aws_sso_session = "corp"

# One profile per set of data you want to read; SDKs ask for it by name.
[profile.audit]
sso = "corp"                                 # which [sso.NAME] logs you in
account_id = "123456789012"
sso_role = "S3JitBase"                       # the permission set's role the login yields
# role_arn = "arn:aws:iam::123456789012:role/s3-readonly-jit"   # set: assume-role mode
region = "eu-west-1"                         # region of the buckets and of the STS endpoint
scope = ["audit-logs/2026/", "reports"]      # "bucket" or "bucket/prefix/"; no wildcards
# SSE-KMS objects in scope are readable without this; set it to allow only these keys:
# kms_keys = ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
window = "30m"                               # default window length (default 1h)
max_window = "2h"                            # longest window \`grant\` may open (default 8h)
session_ttl = "1h"                           # longest AWS-side life of one session (default 1h;
                                             # 1m..36h without role_arn, 15m..1h with it)
grant = "explicit"                           # or "on-demand": the first request opens \`window\`
require_reason = true                        # \`grant\` needs --reason (default false)
hours = "Mon-Fri 08:00-19:00"                # optional: windows only inside these hours
timezone = "Europe/Berlin"                   # required with hours
# source_identity = true                     # assume-role only: send SourceIdentity and session
                                             # tags (the role's trust policy must allow them)
`;
}
