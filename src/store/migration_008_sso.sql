-- Signing keys of the OpenID Connect provider (PKCS#8 PEM). The newest
-- key without retired_at signs; retired keys stay published in the JWKS
-- until the tokens they signed have expired, then they are deleted.
CREATE TABLE sso_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
) STRICT;

-- Authorization codes: SHA-256 of the code, single use, short lived,
-- bound to the client, the redirect address, the PKCE challenge and the
-- nonce. `sid` is the sign-in session that approved it.
CREATE TABLE sso_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    login TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    challenge TEXT,
    sid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Access and refresh tokens (SHA-256). A family is every token that
-- descends from one authorization code: a replayed code or a reused
-- refresh token revokes its whole family.
CREATE TABLE sso_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    login TEXT NOT NULL,
    scope TEXT NOT NULL,
    sid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
) STRICT;
CREATE INDEX sso_tokens_family ON sso_tokens (family);
CREATE INDEX sso_tokens_sid ON sso_tokens (sid);

-- Consent given by a person to a client, remembered.
CREATE TABLE sso_consents (
    login TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (login, client_id)
) STRICT;

-- Services (OpenID Connect clients and CAS services) a sign-in session
-- reached: who to tell when that person signs out.
CREATE TABLE sso_sessions (
    sid TEXT NOT NULL,
    protocol TEXT NOT NULL CHECK (protocol IN ('oidc', 'cas')),
    client TEXT NOT NULL,
    login TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (sid, protocol, client)
) STRICT;

-- CAS service tickets (SHA-256): single use, bound to the service address.
CREATE TABLE cas_tickets (
    ticket_hash TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    login TEXT NOT NULL,
    sid TEXT NOT NULL,
    renewed INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
) STRICT;
