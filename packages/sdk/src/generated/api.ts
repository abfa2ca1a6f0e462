/* eslint-disable */
// Generated from docs/openapi.json by `npm run docs:api` (openapi-typescript); do not edit by hand.

export interface paths {
    "/v1/auth/signup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an account with email and password; sends a verification email
         * @description Access: anyone.
         */
        post: operations["authSignup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/anonymous": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a guest session: a real user id with no credential yet (rate-limited per IP; upgrade it later, keeping its data)
         * @description Access: anyone.
         */
        post: operations["authSignInAnonymously"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/anonymous/upgrade": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Turn the signed-in guest into an email + password account (same id, sessions and data; a verification email follows)
         * @description Access: a signed-in user or the service key.
         */
        post: operations["authUpgradeAnonymous"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in with email and password
         * @description Access: anyone.
         */
        post: operations["authLogin"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Exchange a refresh token for new tokens (rotation; reuse revokes the session)
         * @description Access: anyone.
         */
        post: operations["authRefresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End the current session
         * @description Access: a signed-in user or the service key.
         */
        post: operations["authLogout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End every session of the signed-in user
         * @description Access: a signed-in user or the service key.
         */
        post: operations["authLogoutAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The signed-in user
         * @description Access: a signed-in user or the service key.
         */
        get: operations["authMe"];
        put?: never;
        post?: never;
        /**
         * Delete the signed-in account (currentPassword required when it has one); sessions and tokens go with it, owned documents and files stay (docs/auth.md)
         * @description Access: a signed-in user or the service key.
         */
        delete: operations["authDeleteMe"];
        options?: never;
        head?: never;
        /**
         * Edit the profile (displayName, userMetadata) and/or change the password (with currentPassword; ends every other session and outstanding reset and magic links)
         * @description Access: a signed-in user or the service key.
         */
        patch: operations["authUpdateMe"];
        trace?: never;
    };
    "/v1/auth/email-change": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the email address: a confirmation link goes to the new address (currentPassword required when the account has one)
         * @description Access: a signed-in user or the service key.
         */
        post: operations["authRequestEmailChange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/email-change/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm an email change with the token mailed to the new address
         * @description Access: anyone.
         */
        post: operations["authConfirmEmailChange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Active sessions of the signed-in user
         * @description Access: a signed-in user or the service key.
         */
        get: operations["authSessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * End one session of the signed-in user
         * @description Access: a signed-in user or the service key.
         */
        delete: operations["authRevokeSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/verify-email/request": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send (again) the verification email to the signed-in user
         * @description Access: a signed-in user or the service key.
         */
        post: operations["authRequestVerification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/verify-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm an email address with the token from the email
         * @description Access: anyone.
         */
        post: operations["authVerifyEmail"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/password-reset/request": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Email a password-reset link (answers 202 whether or not the account exists)
         * @description Access: anyone.
         */
        post: operations["authRequestPasswordReset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a new password with the token from the email; ends every session and outstanding email link
         * @description Access: anyone.
         */
        post: operations["authResetPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/magic-link/request": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Email a sign-in link (answers 202 whether or not the account exists)
         * @description Access: anyone.
         */
        post: operations["authRequestMagicLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/magic-link/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in with the token from a magic-link email
         * @description Access: anyone.
         */
        post: operations["authVerifyMagicLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The enabled sign-in providers (for sign-in buttons)
         * @description Access: anyone.
         */
        get: operations["oAuthProviders"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/oauth/{provider}/authorize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Start signing in with a provider: redirects the browser to it (redirectTo must be on AUTH_REDIRECT_URLS)
         * @description Access: anyone.
         */
        get: operations["oAuthAuthorize"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/oauth/{provider}/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The redirect URI to register with the provider; sends the browser back to the app with ?code= (or ?error=)
         * @description Access: anyone.
         */
        get: operations["oAuthCallback"];
        put?: never;
        /**
         * The callback of a provider using response_mode=form_post (Apple): takes its x-www-form-urlencoded answer and redirects (303) to the GET callback on this origin, where the flow cookie is checked
         * @description Access: anyone.
         */
        post: operations["oAuthFormPostCallback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/oauth/exchange": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Trade the one-time code from the redirect for a session
         * @description Access: anyone.
         */
        post: operations["oAuthExchange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/oauth/{provider}/id-token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Native sign-in with an ID token from the provider's SDK (verified against its JWKS, audience and nonce)
         * @description Access: anyone.
         */
        post: operations["oAuthIdToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/identities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The provider identities linked to the signed-in account
         * @description Access: a signed-in user or the service key.
         */
        get: operations["oAuthIdentities"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/identities/{provider}/link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start linking a provider to the signed-in account: open the returned URL in the browser
         * @description Access: a signed-in user or the service key.
         */
        post: operations["oAuthLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/identities/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Unlink an identity (not the last way to sign in: 409 LAST_SIGN_IN_METHOD)
         * @description Access: a signed-in user or the service key.
         */
        delete: operations["oAuthUnlink"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/auth-providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Sign-in providers (client secrets are never returned)
         * @description Access: an admin user or the service key.
         */
        get: operations["authProvidersList"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/auth-providers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One sign-in provider
         * @description Access: an admin user or the service key.
         */
        get: operations["authProvidersGet"];
        /**
         * Create or replace a sign-in provider (the client secret is stored encrypted)
         * @description Access: an admin user or the service key.
         */
        put: operations["authProvidersPut"];
        post?: never;
        /**
         * Delete a sign-in provider (its users keep their accounts; their identities stop working until it is added again)
         * @description Access: an admin user or the service key.
         */
        delete: operations["authProvidersRemove"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Second-factor status of the signed-in user
         * @description Access: a signed-in user or the service key.
         */
        get: operations["mfaStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enrol a TOTP authenticator: a secret, its otpauth URL and a QR code (confirm with a code to enable it)
         * @description Access: a signed-in user or the service key.
         */
        post: operations["mfaEnrol"];
        /**
         * Disable the TOTP factor (needs a current code or a recovery code)
         * @description Access: a signed-in user or the service key.
         */
        delete: operations["mfaDisable"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/mfa/totp/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enable the enrolled TOTP factor with a first code; answers the recovery codes (shown once)
         * @description Access: a signed-in user or the service key.
         */
        post: operations["mfaConfirm"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/mfa/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Second step of a sign-in: the challenge token and a TOTP or recovery code → tokens with aal2
         * @description Access: anyone.
         */
        post: operations["mfaVerify"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/users/{id}/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a user's second factor and recovery codes (lost device)
         * @description Access: an admin user or the service key.
         */
        delete: operations["adminMfaReset"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List users (search by email, cursor paging)
         * @description Access: an admin user or the service key.
         */
        get: operations["adminListUsers"];
        put?: never;
        /**
         * Create a user (no session is opened, no email sent; auth triggers run as for a signup)
         * @description Access: an admin user or the service key.
         */
        post: operations["adminCreateUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One user
         * @description Access: an admin user or the service key.
         */
        get: operations["adminGetUser"];
        put?: never;
        post?: never;
        /**
         * Delete a user and their sessions
         * @description Access: an admin user or the service key.
         */
        delete: operations["adminDeleteUser"];
        options?: never;
        head?: never;
        /**
         * Change roles, disable or enable, mark the email verified
         * @description Access: an admin user or the service key.
         */
        patch: operations["adminUpdateUser"];
        trace?: never;
    };
    "/v1/admin/users/{id}/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * End every session of a user (their refresh tokens stop working; access tokens expire within JWT_ACCESS_TTL_SECONDS)
         * @description Access: an admin user or the service key.
         */
        delete: operations["adminRevokeSessions"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List service API keys (never their secrets)
         * @description Access: an admin user or the service key.
         */
        get: operations["adminListApiKeys"];
        put?: never;
        /**
         * Create a service API key (shown in this answer only; works while its creator may)
         * @description Access: an admin user or the service key.
         */
        post: operations["adminCreateApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a service API key
         * @description Access: an admin user or the service key.
         */
        delete: operations["adminRevokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/collections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List collection definitions
         * @description Access: an admin user or the service key.
         */
        get: operations["collectionsList"];
        put?: never;
        /**
         * Define a collection: typed fields, indexes and access rules (creates its table)
         * @description Access: an admin user or the service key.
         */
        post: operations["collectionsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/collections/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One collection definition
         * @description Access: an admin user or the service key.
         */
        get: operations["collectionsGet"];
        put?: never;
        post?: never;
        /**
         * Delete a collection and its table (force=true when it still has documents)
         * @description Access: an admin user or the service key.
         */
        delete: operations["collectionsRemove"];
        options?: never;
        head?: never;
        /**
         * Change fields, indexes or rules (checked against the stored documents)
         * @description Access: an admin user or the service key.
         */
        patch: operations["collectionsUpdate"];
        trace?: never;
    };
    "/v1/collections/{name}/documents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List documents: filter, sort, cursor paging, count, projection, expansion
         * @description Access: anyone.
         */
        get: operations["documentsList"];
        put?: never;
        /**
         * Create a document (the caller becomes its owner)
         * @description Access: anyone.
         */
        post: operations["documentsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/collections/{name}/documents/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One document (404 also when the caller may not read it)
         * @description Access: anyone.
         */
        get: operations["documentsGet"];
        /**
         * Replace a document (If-Match: its version), or create it with this id when there is none (201, if the create rule allows)
         * @description Access: anyone.
         */
        put: operations["documentsReplace"];
        post?: never;
        /**
         * Delete a document (If-Match: its version)
         * @description Access: anyone.
         */
        delete: operations["documentsRemove"];
        options?: never;
        head?: never;
        /**
         * Change some fields of a document (null removes one; If-Match: its version)
         * @description Access: anyone.
         */
        patch: operations["documentsPatch"];
        trace?: never;
    };
    "/v1/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run several document operations; transaction: true applies all or none
         * @description Access: anyone.
         */
        post: operations["batchRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Queue an email: { to, subject, text?, html? } or { to, template, data } (1-50 recipients)
         * @description Access: an admin user or the service key.
         */
        post: operations["emailSend"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The delivery log, newest first (filter by status and recipient, cursor paging)
         * @description Access: an admin user or the service key.
         */
        get: operations["emailListMessages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/messages/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One email with its bodies, status, attempts and last SMTP reply
         * @description Access: an admin user or the service key.
         */
        get: operations["emailGetMessage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/messages/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Queue a failed email again, with a fresh set of attempts
         * @description Access: an admin user or the service key.
         */
        post: operations["emailRetryMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every template: the built-in ones (possibly overridden) and your own
         * @description Access: an admin user or the service key.
         */
        get: operations["emailListTemplates"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/templates/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One template ({{variable}} placeholders)
         * @description Access: an admin user or the service key.
         */
        get: operations["emailGetTemplate"];
        /**
         * Create or replace a template (a built-in name overrides the default)
         * @description Access: an admin user or the service key.
         */
        put: operations["emailPutTemplate"];
        post?: never;
        /**
         * Delete a template (for a built-in one: back to the default)
         * @description Access: an admin user or the service key.
         */
        delete: operations["emailDeleteTemplate"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/templates/{name}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Render a template (or an unsaved draft) with sample data, or the data given
         * @description Access: an admin user or the service key.
         */
        post: operations["emailPreview"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List deployed functions (current version of each)
         * @description Access: an admin user or the service key.
         */
        get: operations["functionsList"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List runs, newest first (filter by function, status, trigger, event): all of them for admins, a user's own invocations otherwise
         * @description Access: a signed-in user or the service key.
         */
        get: operations["functionsListAllRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/runs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One run: status, attempts, duration, logs, result or error (a user reads the runs they invoked)
         * @description Access: a signed-in user or the service key.
         */
        get: operations["functionsGetRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/runs/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replay a dead, failed or timed-out run with the same event (a new run)
         * @description Access: an admin user or the service key.
         */
        post: operations["functionsRetry"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A function with its current source (never its secrets)
         * @description Access: an admin user or the service key.
         */
        get: operations["functionsGet"];
        /**
         * Deploy a function: a new version with its source; settings left out keep their current values (defaults for a new function)
         * @description Access: an admin user or the service key.
         */
        put: operations["functionsDeploy"];
        post?: never;
        /**
         * Delete a function, its versions, schedules and runs
         * @description Access: an admin user or the service key.
         */
        delete: operations["functionsDelete"];
        options?: never;
        head?: never;
        /**
         * Change settings (triggers, limits, secrets) without new code: a new version with the same code
         * @description Access: an admin user or the service key.
         */
        patch: operations["functionsPatch"];
        trace?: never;
    };
    "/v1/functions/{name}/rollback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Make an earlier version current again: a new version with its code and settings (secrets stay)
         * @description Access: an admin user or the service key.
         */
        post: operations["functionsRollback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/{name}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every deployed version of a function, newest first
         * @description Access: an admin user or the service key.
         */
        get: operations["functionsVersions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/{name}/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Metering per day (UTC): attempts, cold starts, wall and CPU time, memory, GB-seconds
         * @description Access: an admin user or the service key.
         */
        get: operations["functionsUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/{name}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Runs of one function, newest first (filter by status, trigger, event); a user sees their own invocations
         * @description Access: a signed-in user or the service key.
         */
        get: operations["functionsRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/functions/{name}/invoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Invoke a function: waits for its result, or with ?async=true answers 202 with the run id
         * @description Access: anyone.
         */
        post: operations["functionsInvoke"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness: the process is up and serving HTTP
         * @description Access: anyone.
         */
        get: operations["healthLive"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness: Postgres, Redis and storage answer a real round trip
         * @description Access: anyone.
         */
        get: operations["healthReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Activity for the dashboard: counts, runs and emails of the last 24 h, queue depth, recent failures
         * @description Access: an admin user or the service key.
         */
        get: operations["overviewGet"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage/buckets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List buckets (admin)
         * @description Access: an admin user or the service key.
         */
        get: operations["storageListBuckets"];
        put?: never;
        /**
         * Create a bucket (admin): public or private, max file size, allowed MIME types
         * @description Access: an admin user or the service key.
         */
        post: operations["storageCreateBucket"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage/buckets/{bucket}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Replace a bucket's rules (admin): create / update / delete rules over the file and the caller
         * @description Access: an admin user or the service key.
         */
        patch: operations["storageUpdateBucket"];
        trace?: never;
    };
    "/v1/storage/buckets/{bucket}/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the ready files of a bucket the caller may read, by key, under an optional prefix
         * @description Access: anyone.
         */
        get: operations["storageListFiles"];
        put?: never;
        /**
         * Upload a file (multipart/form-data: optional key and acl fields, then file), streamed
         * @description Access: a signed-in user or the service key.
         */
        post: operations["storageUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage/buckets/{bucket}/upload-url": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a presigned upload: a pending file and a URL to PUT its bytes to
         * @description Access: a signed-in user or the service key.
         */
        post: operations["storageUploadUrl"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage/files/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * File metadata (404 when missing or not readable)
         * @description Access: anyone.
         */
        get: operations["storageGetFile"];
        put?: never;
        post?: never;
        /**
         * Delete a file (owner, admins, service role, write ACL)
         * @description Access: a signed-in user or the service key.
         */
        delete: operations["storageDeleteFile"];
        options?: never;
        head?: never;
        /**
         * Change a file's acl and/or key (whoever may write it, within the bucket's update rule)
         * @description Access: a signed-in user or the service key.
         */
        patch: operations["storageUpdateFile"];
        trace?: never;
    };
    "/v1/storage/files/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The file bytes, streamed; honours Range (206/416), If-None-Match, If-Modified-Since and If-Range
         * @description Access: anyone.
         */
        get: operations["storageContent"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Headers only of: The file bytes, streamed; honours Range (206/416), If-None-Match, If-Modified-Since and If-Range
         * @description Access: anyone.
         */
        head: operations["storageContentHead"];
        patch?: never;
        trace?: never;
    };
    "/v1/storage/files/{id}/download-url": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A short-lived presigned URL to GET the file (same permission check as content)
         * @description Access: anyone.
         */
        get: operations["storageDownloadUrl"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage/files/{id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Finish a presigned upload: checks the object (size, type) and marks the file ready
         * @description Access: a signed-in user or the service key.
         */
        post: operations["storageComplete"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage/signed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Local-disk driver only: the object behind a signed download URL (Range supported)
         * @description Access: anyone.
         */
        get: operations["storageSigned"];
        /** Local-disk driver only: the target of a presigned upload URL (PUT the raw bytes, then POST complete) */
        put: operations["storageSignedUpload"];
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Headers only of: Local-disk driver only: the object behind a signed download URL (Range supported)
         * @description Access: anyone.
         */
        head: operations["storageSignedHead"];
        patch?: never;
        trace?: never;
    };
    "/v1/admin/transfer/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export users, in id order, with their argon2 password hashes (never a password); each page is audited
         * @description Access: an admin user or the service key.
         */
        get: operations["transferExportUsers"];
        put?: never;
        /**
         * Import users as exported: same ids, emails, password hashes, roles and timestamps; existing ids or emails are skipped
         * @description Access: an admin user or the service key.
         */
        post: operations["transferImportUsers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/transfer/collections/{name}/documents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import documents as exported: same ids, owners, ACLs, versions and timestamps; no function runs; existing ids are skipped
         * @description Access: an admin user or the service key.
         */
        post: operations["transferImportDocuments"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/transfer/buckets/{bucket}/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import a file as exported (multipart/form-data: id, key, ownerId, createdAt, acl, then file); no function runs
         * @description Access: an admin user or the service key.
         */
        post: operations["transferImportFile"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics (text exposition format)
         * @description Access: the bootstrap service key, or `Authorization: Bearer <METRICS_TOKEN>`; anyone with METRICS_PUBLIC=true.
         */
        get: operations["metricsScrape"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/realtime": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live queries over a WebSocket (JSON frames: auth, subscribe, unsubscribe, ping)
         * @description Upgrade to a WebSocket. Credentials: an `auth` frame, or the upgrade request's Authorization / x-api-key headers; anonymous otherwise. Protocol, events, limits and close codes: docs/realtime.md.
         *
         *     Access: anyone; every event is checked against the read rules of the subscriber.
         */
        get: operations["realtimeWebsocket"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/realtime/sse": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One live query as Server-Sent Events (fallback for clients without WebSocket)
         * @description The stream's events are the WebSocket protocol's server frames (`event: <type>`, `data: <frame JSON>`, `id: <event id>` on events). Protocol, events, limits and close codes: docs/realtime.md.
         *
         *     Access: anyone; every event is checked against the read rules of the subscriber.
         */
        get: operations["realtimeSse"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AuthTokens: {
            user: components["schemas"]["User"];
            accessToken: string;
            refreshToken: string;
            /** @description seconds until the access token expires */
            expiresIn: number;
            /** @description magic links requested with a redirectTo: where the app continues */
            redirectTo?: string;
        };
        User: {
            /** Format: uuid */
            id: string;
            email: string;
            emailVerified: boolean;
            roles: string[];
            /** @description a guest: no credential yet (upgrade with POST /auth/anonymous/upgrade or by linking a provider) */
            isAnonymous: boolean;
            displayName: string | null;
            /** @description profile data the user edits */
            userMetadata: {
                [key: string]: unknown;
            };
            /** @description set by admins and the service role only */
            appMetadata: {
                [key: string]: unknown;
            };
            /** Format: date-time */
            createdAt: string;
        };
        SignInResult: components["schemas"]["AuthTokens"] | components["schemas"]["MfaChallenge"];
        /** @description The account has a second factor: no tokens yet */
        MfaChallenge: {
            /** @enum {boolean} */
            mfaRequired: true;
            /** @description answer it with POST /auth/mfa/verify within expiresIn seconds */
            challengeToken: string;
            factors: "totp"[];
            expiresIn: number;
            redirectTo?: string;
        };
        Revoked: {
            /** @description sessions ended */
            revoked: number;
        };
        Accepted: {
            /** @enum {string} */
            status: "accepted";
        };
        SessionList: {
            items: components["schemas"]["Session"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        Session: {
            /** Format: uuid */
            id: string;
            userAgent: string | null;
            ip: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            lastUsedAt: string;
            /** Format: date-time */
            expiresAt: string;
            /** @description the session of the access token that asked */
            current: boolean;
        };
        SignInProviderList: {
            items: {
                id: string;
                /** @enum {string} */
                kind: "oidc" | "google" | "microsoft" | "apple" | "github";
            }[];
            /** @enum {string|null} */
            nextCursor: null;
        };
        IdentityList: {
            items: components["schemas"]["Identity"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        Identity: {
            /** Format: uuid */
            id: string;
            provider: string;
            email: string | null;
            emailVerified: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            lastSignInAt: string;
        };
        LinkStarted: {
            /** @description open this URL in the browser to link the provider */
            url: string;
        };
        AuthProviderList: {
            items: components["schemas"]["AuthProvider"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        AuthProvider: {
            id: string;
            /** @enum {string} */
            kind: "oidc" | "google" | "microsoft" | "apple" | "github";
            issuer: string | null;
            clientId: string;
            hasClientSecret: boolean;
            scopes: string[];
            audiences: string[];
            options: {
                [key: string]: string;
            };
            enabled: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        MfaStatus: {
            totp: {
                enabled: boolean;
                /** @description enrolled, not confirmed yet */
                pending: boolean;
            };
            recoveryCodesLeft: number;
        };
        TotpEnrolment: {
            /** @description base32, for manual entry */
            secret: string;
            otpauthUrl: string;
            /** @description a data: URL of a PNG QR code of otpauthUrl */
            qrCode: string;
        };
        RecoveryCodes: {
            /** @description shown this once; each works once */
            recoveryCodes: string[];
        };
        AdminUserList: {
            items: components["schemas"]["AdminUser"][];
            nextCursor: string | null;
        };
        /** @description A user as admins see it */
        AdminUser: {
            /** Format: uuid */
            id: string;
            email: string;
            emailVerified: boolean;
            roles: string[];
            /** @description a guest: no credential yet (upgrade with POST /auth/anonymous/upgrade or by linking a provider) */
            isAnonymous: boolean;
            displayName: string | null;
            /** @description profile data the user edits */
            userMetadata: {
                [key: string]: unknown;
            };
            /** @description set by admins and the service role only */
            appMetadata: {
                [key: string]: unknown;
            };
            /** Format: date-time */
            createdAt: string;
            disabled: boolean;
            /** Format: date-time */
            updatedAt: string;
        };
        SessionsRevoked: {
            /** @description sessions ended */
            revoked: number;
        };
        ApiKeyCreated: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @description the first characters of the key, to recognise it */
            prefix: string;
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            lastUsedAt: string | null;
            /** Format: date-time */
            revokedAt: string | null;
            /** @description empty = full service access */
            scopes: ("collections" | "storage" | "functions" | "read-only")[];
            /** Format: date-time */
            expiresAt: string | null;
            /** @description the secret: shown in this answer only */
            key: string;
        };
        ApiKeyList: {
            items: components["schemas"]["ApiKey"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        ApiKey: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @description the first characters of the key, to recognise it */
            prefix: string;
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            lastUsedAt: string | null;
            /** Format: date-time */
            revokedAt: string | null;
            /** @description empty = full service access */
            scopes: ("collections" | "storage" | "functions" | "read-only")[];
            /** Format: date-time */
            expiresAt: string | null;
        };
        Collection: {
            name: string;
            fields: {
                name: string;
                /** @enum {string} */
                type: "string" | "number" | "integer" | "boolean" | "date" | "json" | "array" | "reference";
                required?: boolean;
                unique?: boolean;
                default?: unknown;
                min?: number;
                max?: number;
                pattern?: string;
                enum?: (string | number)[];
                collection?: string;
                /** @enum {string} */
                items?: "string" | "number" | "integer" | "boolean" | "date";
                /** @enum {string} */
                onDelete?: "cascade" | "setNull" | "restrict";
            }[];
            indexes: (string[] | {
                fields: string[];
                unique?: boolean;
                where?: {
                    [key: string]: unknown;
                };
                search?: boolean;
                /** @enum {string} */
                language?: "simple" | "english" | "french" | "german" | "spanish" | "italian" | "portuguese" | "dutch" | "danish" | "finnish" | "norwegian" | "swedish" | "russian";
            })[];
            rules: {
                /** @description public | authenticated | owner | admin | role:<name>, a filter expression with @auth/@request/@data variables, or a list of these (any one allows) */
                list: (string | {
                    [key: string]: unknown;
                }) | (string | {
                    [key: string]: unknown;
                })[];
                /** @description public | authenticated | owner | admin | role:<name>, a filter expression with @auth/@request/@data variables, or a list of these (any one allows) */
                read: (string | {
                    [key: string]: unknown;
                }) | (string | {
                    [key: string]: unknown;
                })[];
                /** @description public | authenticated | owner | admin | role:<name>, a filter expression with @auth/@request/@data variables, or a list of these (any one allows) */
                create: (string | {
                    [key: string]: unknown;
                }) | (string | {
                    [key: string]: unknown;
                })[];
                /** @description public | authenticated | owner | admin | role:<name>, a filter expression with @auth/@request/@data variables, or a list of these (any one allows) */
                update: (string | {
                    [key: string]: unknown;
                }) | (string | {
                    [key: string]: unknown;
                })[];
                /** @description public | authenticated | owner | admin | role:<name>, a filter expression with @auth/@request/@data variables, or a list of these (any one allows) */
                delete: (string | {
                    [key: string]: unknown;
                }) | (string | {
                    [key: string]: unknown;
                })[];
            };
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        CollectionList: {
            items: components["schemas"]["Collection"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        /** @description the system fields beside the fields of the collection, flat */
        Document: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            ownerId: string | null;
            acl: {
                read?: string[];
                write?: string[];
            } | null;
            version: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        } & {
            [key: string]: unknown;
        };
        DocumentList: {
            items: components["schemas"]["ProjectedDocument"][];
            nextCursor: string | null;
            /** @description with ?count=true: how many documents match */
            count?: number;
        };
        /** @description a document read with ?fields=: the fields not asked for are absent (id and version are always present) */
        ProjectedDocument: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            ownerId?: string | null;
            acl?: {
                read?: string[];
                write?: string[];
            } | null;
            version: number;
            /** Format: date-time */
            createdAt?: string;
            /** Format: date-time */
            updatedAt?: string;
        } & {
            [key: string]: unknown;
        };
        BatchResult: {
            results: {
                status: number;
                document?: components["schemas"]["Document"];
                error?: {
                    code: string;
                    message: string;
                    details?: unknown[];
                };
            }[];
        };
        EmailQueued: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            status: "queued";
        };
        EmailMessageList: {
            items: components["schemas"]["EmailMessageSummary"][];
            nextCursor: string | null;
        };
        EmailMessageSummary: {
            /** Format: uuid */
            id: string;
            to: string[];
            subject: string;
            template: string | null;
            /** @enum {string} */
            status: "queued" | "sent" | "failed";
            attempts: number;
            /** @description Message-ID header of the sent message */
            messageId: string | null;
            /** @description Last SMTP reply */
            response: string | null;
            /** @description Last delivery error */
            error: string | null;
            /** @description Recipients the server refused */
            rejected: string[];
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            lastAttemptAt: string | null;
            /** Format: date-time */
            sentAt: string | null;
        };
        EmailMessage: {
            /** Format: uuid */
            id: string;
            to: string[];
            subject: string;
            template: string | null;
            /** @enum {string} */
            status: "queued" | "sent" | "failed";
            attempts: number;
            /** @description Message-ID header of the sent message */
            messageId: string | null;
            /** @description Last SMTP reply */
            response: string | null;
            /** @description Last delivery error */
            error: string | null;
            /** @description Recipients the server refused */
            rejected: string[];
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            lastAttemptAt: string | null;
            /** Format: date-time */
            sentAt: string | null;
            text: string | null;
            html: string | null;
        };
        EmailTemplateList: {
            items: components["schemas"]["EmailTemplate"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        EmailTemplate: {
            name: string;
            subject: string;
            html: string;
            text: string;
            /** @description One of verification, password-reset, magic-link */
            builtIn: boolean;
            /** @description An admin has stored this template (for a built-in: replaced the default) */
            overridden: boolean;
            /** Format: date-time */
            updatedAt: string | null;
        };
        EmailPreview: {
            name: string;
            subject: string;
            html: string;
            text: string;
            /** @description The data the template was rendered with */
            data: {
                [key: string]: string;
            };
            /** @description Placeholders that had no value (rendered empty) */
            missing: string[];
        };
        FunctionList: {
            items: components["schemas"]["Function"][];
            nextCursor: string | null;
        };
        Function: {
            name: string;
            version: number;
            /** @enum {string} */
            language: "js" | "ts";
            triggers: ({
                /** @enum {string} */
                type: "http";
                /** @description who may invoke: public, authenticated (default), service, or role:<name> */
                access?: components["schemas"]["HttpAccess"];
                /** @description the user who invoked a run may read its logs (default false) */
                callerLogs?: boolean;
                /**
                 * @description ctx.db, ctx.storage and ctx.email act as the function (default) or as the caller who invoked it (their rules apply)
                 * @enum {string}
                 */
                runAs?: "function" | "caller";
            } | {
                /** @enum {string} */
                type: "db";
                collection: string;
                events: ("create" | "update" | "delete")[];
            } | {
                /** @enum {string} */
                type: "storage";
                bucket: string;
                events: ("upload" | "delete")[];
            } | {
                /** @enum {string} */
                type: "auth";
                events: ("signup" | "link" | "unlink" | "mfa_enrolled")[];
            } | {
                /** @enum {string} */
                type: "schedule";
                cron: string;
                timezone?: string;
            })[];
            timeoutMs: number;
            memoryMb: number;
            retries: number;
            backoffMs: number;
            concurrency: number;
            /** @description the version this one copied, when it is a rollback */
            rollbackOf: number | null;
            /** @description names of the secrets; their values are never returned */
            secretNames: string[];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** @description only in GET /functions/{name} */
            source?: string;
            /** @description the schedule triggers with their next tick (GET /functions/{name}, when there is one) */
            schedules?: {
                cron: string;
                timezone: string;
                /** Format: date-time */
                nextRunAt: string | null;
            }[];
            /** @description the latest run a schedule started */
            lastScheduledRun?: {
                /** Format: uuid */
                runId: string;
                /** @enum {string} */
                status: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
                /** Format: date-time */
                scheduledAt: string | null;
                /** Format: date-time */
                createdAt: string;
            } | null;
        };
        HttpAccess: ("public" | "authenticated" | "service" | "user" | "admin") | string;
        /** @description admins and service keys get full runs; a user gets the runs they invoked (CallerRun) */
        RunList: {
            items: (components["schemas"]["Run"] | components["schemas"]["CallerRun"])[];
            nextCursor: string | null;
        };
        Run: {
            /** Format: uuid */
            id: string;
            function: string;
            version: number;
            /** @enum {string} */
            trigger: "http" | "db" | "storage" | "auth" | "schedule";
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
            attempts: number;
            maxAttempts: number;
            /** @description billed time of the last attempt */
            durationMs: number | null;
            /** @description whether the last attempt needed a new isolate (a cold start); null before it ran */
            cold: boolean | null;
            /** @description CPU time of the last attempt in its isolate */
            cpuMs: number | null;
            /** @description heap in use (V8 heap and buffers) of the isolate when the last attempt ended */
            memoryBytes: number | null;
            logs: {
                /** @enum {string} */
                level: "log" | "info" | "warn" | "error" | "debug";
                message: string;
                /** Format: date-time */
                at: string;
            }[];
            logsTruncated: boolean;
            /** @description what the handler returned (JSON) */
            result?: unknown;
            error?: components["schemas"]["RunError"];
            /** Format: uuid */
            eventId: string | null;
            /** @description the event the handler received */
            event: unknown;
            /** Format: uuid */
            replayOf: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            startedAt: string | null;
            /** Format: date-time */
            finishedAt: string | null;
        };
        /** @description why a run failed; code is stable (docs/functions.md) */
        RunError: {
            code: string;
            message: string;
            stack?: string;
        };
        /** @description a run as the user who invoked it sees it */
        CallerRun: {
            /** Format: uuid */
            id: string;
            function: string;
            version: number;
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
            durationMs: number | null;
            cold: boolean | null;
            result?: unknown;
            error?: {
                code: string;
                message: string;
            };
            /** @description only when the function's http trigger has callerLogs */
            logs?: {
                /** @enum {string} */
                level: "log" | "info" | "warn" | "error" | "debug";
                message: string;
                /** Format: date-time */
                at: string;
            }[];
            logsTruncated?: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            startedAt: string | null;
            /** Format: date-time */
            finishedAt: string | null;
        };
        Replay: {
            /** Format: uuid */
            runId: string;
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
            /** @description what the handler returned (JSON), when it succeeded */
            result?: unknown;
            error?: components["schemas"]["RunError"];
            durationMs: number | null;
            /** Format: uuid */
            replayOf: string;
        };
        FunctionVersionList: {
            items: components["schemas"]["FunctionVersion"][];
            /** @enum {string|null} */
            nextCursor: null;
        };
        FunctionVersion: {
            version: number;
            /** @enum {string} */
            language: "js" | "ts";
            triggers: ({
                /** @enum {string} */
                type: "http";
                /** @description who may invoke: public, authenticated (default), service, or role:<name> */
                access?: components["schemas"]["HttpAccess"];
                /** @description the user who invoked a run may read its logs (default false) */
                callerLogs?: boolean;
                /**
                 * @description ctx.db, ctx.storage and ctx.email act as the function (default) or as the caller who invoked it (their rules apply)
                 * @enum {string}
                 */
                runAs?: "function" | "caller";
            } | {
                /** @enum {string} */
                type: "db";
                collection: string;
                events: ("create" | "update" | "delete")[];
            } | {
                /** @enum {string} */
                type: "storage";
                bucket: string;
                events: ("upload" | "delete")[];
            } | {
                /** @enum {string} */
                type: "auth";
                events: ("signup" | "link" | "unlink" | "mfa_enrolled")[];
            } | {
                /** @enum {string} */
                type: "schedule";
                cron: string;
                timezone?: string;
            })[];
            timeoutMs: number;
            memoryMb: number;
            retries: number;
            backoffMs: number;
            concurrency: number;
            createdBy: string | null;
            /** @description the version this one copied, when it is a rollback */
            rollbackOf: number | null;
            /** Format: date-time */
            createdAt: string;
        };
        FunctionUsage: {
            function: string;
            /** Format: date */
            from: string;
            /** Format: date */
            to: string;
            /** @description days with attempts, oldest first */
            items: {
                /** Format: date */
                day: string;
                /** @description attempts that ran (retries count) */
                attempts: number;
                /** @description attempts that needed a new isolate */
                coldStarts: number;
                /** @description wall time of the attempts (the billed duration) */
                wallMs: number;
                /** @description CPU time of the attempts in their isolates */
                cpuMs: number;
                /** @description most heap in use at the end of one attempt */
                memoryBytesMax: number;
                /** @description memoryMb × wall time, in GB-seconds */
                gbSeconds: number;
            }[];
            total: {
                /** @description attempts that ran (retries count) */
                attempts: number;
                /** @description attempts that needed a new isolate */
                coldStarts: number;
                /** @description wall time of the attempts (the billed duration) */
                wallMs: number;
                /** @description CPU time of the attempts in their isolates */
                cpuMs: number;
                /** @description most heap in use at the end of one attempt */
                memoryBytesMax: number;
                /** @description memoryMb × wall time, in GB-seconds */
                gbSeconds: number;
            };
        };
        Invocation: {
            /** Format: uuid */
            runId: string;
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
            /** @description what the handler returned (JSON), when it succeeded */
            result?: unknown;
            error?: components["schemas"]["RunError"];
            durationMs: number | null;
        };
        Liveness: {
            /** @enum {string} */
            status: "ok";
        };
        Readiness: {
            /** @enum {string} */
            status: "ok" | "unavailable";
            ready: boolean;
            checks: {
                postgres: {
                    /** @enum {string} */
                    status: "up";
                    latencyMs: number;
                } | {
                    /** @enum {string} */
                    status: "down";
                    error: string;
                };
                redis: {
                    /** @enum {string} */
                    status: "up";
                    latencyMs: number;
                } | {
                    /** @enum {string} */
                    status: "down";
                    error: string;
                };
                storage: {
                    /** @enum {string} */
                    status: "up";
                    latencyMs: number;
                } | {
                    /** @enum {string} */
                    status: "down";
                    error: string;
                };
            };
        };
        AdminOverview: {
            /** Format: date-time */
            generatedAt: string;
            /** @description as GET /v1/health/ready answers it */
            health: components["schemas"]["Readiness"];
            counts: {
                users: number;
                collections: number;
                functions: number;
                buckets: number;
                files: number;
            };
            runs: {
                /** @description rows by status */
                last24h: {
                    [key: string]: number;
                };
                /** @description the last 24 hours, oldest first; failed counts failed, timed_out and dead */
                hourly: {
                    /** Format: date-time */
                    hour: string;
                    succeeded: number;
                    failed: number;
                }[];
            };
            email: {
                /** @description rows by status */
                last24h: {
                    [key: string]: number;
                };
            };
            queues: {
                [key: string]: {
                    waiting: number;
                    active: number;
                    delayed: number;
                    failed: number;
                };
            };
            /** @description answered by this api process since it started (sample twice for a rate) */
            requests: {
                total: number;
                errors4xx: number;
                errors5xx: number;
            };
            recentErrors: {
                /** Format: date-time */
                at: string;
                source: string;
                message: string;
                ref?: string;
            }[];
        };
        Bucket: {
            /** Format: uuid */
            id: string;
            name: string;
            public: boolean;
            maxFileSize: number | null;
            allowedMimeTypes: string[];
            /** @description create / update / delete rules (docs/storage.md), null when none */
            rules: {
                [key: string]: unknown;
            } | null;
            /** Format: date-time */
            createdAt: string;
        };
        BucketList: {
            items: components["schemas"]["Bucket"][];
            nextCursor: string | null;
        };
        File: {
            /** Format: uuid */
            id: string;
            bucket: string;
            key: string;
            size: number;
            contentType: string;
            /** Format: uuid */
            ownerId: string | null;
            /** Format: date-time */
            createdAt: string;
            /** @enum {string} */
            status: "pending" | "ready";
            /** @description sha256 (hex) of the bytes; null while pending */
            checksum: string | null;
            /** @description only shown to callers who may change the file */
            acl?: {
                /** @default [] */
                read: string[];
                /** @default [] */
                write: string[];
            };
        };
        FileList: {
            items: components["schemas"]["File"][];
            nextCursor: string | null;
        };
        UploadUrl: {
            file: components["schemas"]["File"];
            /** @description PUT the bytes here */
            url: string;
            /** @enum {string} */
            method: "PUT";
            /** @description headers to send with the PUT */
            headers: {
                [key: string]: string;
            };
            /** Format: date-time */
            expiresAt: string;
        };
        DownloadUrl: {
            url: string;
            /** Format: date-time */
            expiresAt: string;
        };
        TransferUserList: {
            items: components["schemas"]["TransferUser"][];
            nextCursor: string | null;
        };
        /** @description A user as export/import moves it: never a password, only its argon2 hash */
        TransferUser: {
            /** Format: uuid */
            id: string;
            /** Format: email */
            email: string;
            /** @description argon2 hash (PHC); null = no password (magic link or reset to sign in) */
            passwordHash: string | null;
            emailVerified: boolean;
            roles: string[];
            disabled: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        ImportUsersResult: {
            /** @description rows written */
            created: number;
            /** @description ids that already existed (left as they are) */
            skipped: string[];
            /** @description skipped because another account (another id) has the email: their documents and files keep an owner id that is no user here */
            emailTaken: string[];
        };
        TransferDocument: {
            /** Format: uuid */
            id: string;
            /**
             * Format: uuid
             * @default null
             */
            ownerId: string | null;
            acl?: unknown;
            /** @default 1 */
            version: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        } & {
            [key: string]: unknown;
        };
        ImportResult: {
            /** @description rows written */
            created: number;
            /** @description ids that already existed (left as they are) */
            skipped: string[];
        };
        /** @description Every error answer has this shape; `code` is stable, `message` is for humans. */
        Error: {
            /** @description the HTTP status, repeated */
            statusCode: number;
            /** @enum {string} */
            code: "ACCOUNT_DISABLED" | "ACL_FORBIDDEN" | "ANONYMOUS_USER" | "API_KEY_NOT_FOUND" | "API_KEY_SCOPE" | "BAD_FRAME" | "BAD_REQUEST" | "BUCKET_EXISTS" | "BUCKET_NOT_FOUND" | "COLLECTION_EXISTS" | "COLLECTION_NOT_EMPTY" | "COLLECTION_NOT_FOUND" | "COLLECTION_REFERENCED" | "COMPILE_FAILED" | "CONFLICT" | "CONNECTION_LIMIT" | "CONTENT_TYPE_MISMATCH" | "DATABASE_UNAVAILABLE" | "DATA_CONFLICT" | "DOCUMENT_NOT_FOUND" | "DOCUMENT_REFERENCED" | "EMAIL_NOT_FOUND" | "EMAIL_TAKEN" | "EMAIL_TEMPLATE_NOT_FOUND" | "FILE_EXISTS" | "FILE_MISSING" | "FILE_NOT_FOUND" | "FILE_NOT_READY" | "FILE_TOO_LARGE" | "FORBIDDEN" | "FRAME_TOO_LARGE" | "FUNCTION_NOT_FOUND" | "FUNCTION_VERSION_NOT_FOUND" | "IDENTITY_IN_USE" | "IDENTITY_NOT_FOUND" | "INTERNAL_ERROR" | "INVALID_API_KEY" | "INVALID_CREDENTIALS" | "INVALID_CURSOR" | "INVALID_FIELDS" | "INVALID_FILTER" | "INVALID_JSON" | "INVALID_KEY" | "INVALID_REFRESH_TOKEN" | "INVALID_SIGNATURE" | "INVALID_SORT" | "INVALID_TOKEN" | "LAST_SIGN_IN_METHOD" | "MALFORMED_MULTIPART" | "METHOD_NOT_ALLOWED" | "MFA_ALREADY_ENABLED" | "MFA_CHALLENGE_INVALID" | "MFA_CODE_INVALID" | "MFA_FACTOR_NOT_FOUND" | "MFA_NOT_ENABLED" | "MFA_NOT_ENROLLED" | "MIME_TYPE_NOT_ALLOWED" | "NOT_ACCEPTABLE" | "NOT_ANONYMOUS" | "NOT_FAILED" | "NOT_FOUND" | "OAUTH_ACCOUNT_EXISTS" | "OAUTH_CODE_INVALID" | "OAUTH_DENIED" | "OAUTH_EMAIL_REQUIRED" | "OAUTH_ID_TOKEN_INVALID" | "OAUTH_ID_TOKEN_UNSUPPORTED" | "OAUTH_NONCE_MISMATCH" | "OAUTH_PROVIDER_ERROR" | "OAUTH_PROVIDER_MISCONFIGURED" | "OAUTH_PROVIDER_NOT_FOUND" | "OAUTH_STATE_INVALID" | "PASSWORD_REQUIRED" | "PAYLOAD_TOO_LARGE" | "PRECONDITION_FAILED" | "QUERY_TIMEOUT" | "QUEUE_UNAVAILABLE" | "RANGE_NOT_SATISFIABLE" | "RATE_LIMITED" | "REDIRECT_NOT_ALLOWED" | "REFERENCE_CONFLICT" | "RUN_NOT_FOUND" | "RUN_NOT_RETRYABLE" | "SERVICE_UNAVAILABLE" | "SESSION_NOT_FOUND" | "SESSION_REVOKED" | "SIZE_MISMATCH" | "SUBSCRIPTION_EXISTS" | "SUBSCRIPTION_LIMIT" | "SUBSCRIPTION_NOT_FOUND" | "TOKEN_EXPIRED" | "TOO_MANY_FILES" | "TOO_MANY_PARTS" | "TRANSACTION_CONFLICT" | "UNAUTHENTICATED" | "UNAUTHORIZED" | "UNPROCESSABLE" | "UNSUPPORTED_MEDIA_TYPE" | "UPLOAD_ABORTED" | "UPLOAD_MISSING" | "USER_NOT_FOUND" | "USER_ONLY" | "VALIDATION_FAILED";
            message: string;
            /** @description what was wrong, e.g. one entry per invalid field */
            details?: {
                path?: string;
                message: string;
            }[];
            /** @description also in the x-request-id header; quote it when reporting a problem */
            requestId: string;
        };
    };
    responses: {
        /** @description An error (4xx for a bad request, 5xx when the server or a dependency failed) */
        Error: {
            headers: {
                /** @description the id of this request in the server logs */
                "x-request-id"?: string;
                /** @description on 429 and 503: seconds to wait before trying again */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    authSignup: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthTokens"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authSignInAnonymously: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthTokens"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authUpgradeAnonymous: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authLogin: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignInResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authRefresh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    refreshToken: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthTokens"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authLogout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Signed out */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authLogoutAll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revoked"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authMe: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authDeleteMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    currentPassword?: string;
                };
            };
        };
        responses: {
            /** @description The account is deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authUpdateMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    displayName?: string | null;
                    /** @description replaces the whole object */
                    userMetadata?: {
                        [key: string]: unknown;
                    };
                    currentPassword?: string;
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authRequestEmailChange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                    currentPassword?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authConfirmEmailChange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authSessions: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authRevokeSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session is ended */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authRequestVerification: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authVerifyEmail: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authRequestPasswordReset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                };
            };
        };
        responses: {
            /** @description OK */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authResetPassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description The password is changed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authRequestMagicLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                    /** @description where to send the browser afterwards; must be on AUTH_REDIRECT_URLS */
                    redirectTo?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authVerifyMagicLink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignInResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthProviders: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignInProviderList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthAuthorize: {
        parameters: {
            query: {
                /** @description where to send the browser afterwards; must be on AUTH_REDIRECT_URLS */
                redirectTo: string;
                /** @description set by POST /auth/identities/:provider/link */
                link?: string;
            };
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description To the provider */
            302: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthCallback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description To the app's redirectTo */
            302: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthFormPostCallback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": {
                    code?: string;
                    state?: string;
                    iss?: string;
                    error?: string;
                    error_description?: string;
                    /** @description Apple: the user's name (JSON), on the first sign-in only */
                    user?: string;
                };
            };
        };
        responses: {
            /** @description To GET /v1/auth/oauth/{provider}/callback with the answer in the query */
            303: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthExchange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    code: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignInResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthIdToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    idToken: string;
                    /** @description the raw nonce the app passed to the provider */
                    nonce?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignInResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthIdentities: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IdentityList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                provider: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description where to send the browser afterwards; must be on AUTH_REDIRECT_URLS */
                    redirectTo: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LinkStarted"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    oAuthUnlink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unlinked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authProvidersList: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthProviderList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authProvidersGet: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthProvider"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authProvidersPut: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    kind: "oidc" | "google" | "microsoft" | "apple" | "github";
                    /** @description the OIDC issuer (discovery at <issuer>/.well-known/openid-configuration); required for kind oidc, a preset otherwise */
                    issuer?: string;
                    clientId: string;
                    /** @description write-only: stored encrypted, never returned; left out = keep the stored one; Apple: the PKCS#8 private key */
                    clientSecret?: string | null;
                    /**
                     * @description empty = the kind's defaults
                     * @default []
                     */
                    scopes?: string[];
                    /**
                     * @description other client ids whose ID tokens native sign-in accepts
                     * @default []
                     */
                    audiences?: string[];
                    /** @default {} */
                    options?: {
                        /** @description Microsoft: the directory (tenant) id or domain */
                        tenant?: string;
                        /** @description Apple: the team id */
                        teamId?: string;
                        /** @description Apple: the key id */
                        keyId?: string;
                        /**
                         * @description how the provider returns to the callback: query (default) or form_post (default for Apple; the callback then takes a form POST)
                         * @enum {string}
                         */
                        responseMode?: "query" | "form_post";
                    };
                    /** @default true */
                    enabled?: boolean;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthProvider"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    authProvidersRemove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    mfaStatus: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MfaStatus"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    mfaEnrol: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TotpEnrolment"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    mfaDisable: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    code: string;
                };
            };
        };
        responses: {
            /** @description Disabled */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    mfaConfirm: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    code: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecoveryCodes"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    mfaVerify: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    challengeToken: string;
                    code: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthTokens"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminMfaReset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminListUsers: {
        parameters: {
            query?: {
                search?: string;
                limit?: number;
                /** @description nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed) */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUserList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminCreateUser: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email: string;
                    /** @description omitted: the user signs in with a magic link or sets one by password reset */
                    password?: string;
                    /** @default [] */
                    roles?: string[];
                    /** @default false */
                    emailVerified?: boolean;
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminGetUser: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminDeleteUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminUpdateUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    roles?: string[];
                    disabled?: boolean;
                    emailVerified?: boolean;
                    displayName?: string | null;
                    /** @description replaces the whole object */
                    userMetadata?: {
                        [key: string]: unknown;
                    };
                    /** @description replaces the whole object; only admins and the service role set it */
                    appMetadata?: {
                        [key: string]: unknown;
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminRevokeSessions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionsRevoked"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminListApiKeys: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminCreateApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    /**
                     * @description empty = full service access; else only the listed areas (collections, storage, functions), and with read-only only GET/HEAD
                     * @default []
                     */
                    scopes?: ("collections" | "storage" | "functions" | "read-only")[];
                    /**
                     * Format: date-time
                     * @description after this instant the key is refused
                     */
                    expiresAt?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyCreated"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    adminRevokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    collectionsList: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    collectionsCreate: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    /** @default [] */
                    fields?: {
                        name: string;
                        /** @enum {string} */
                        type: "string" | "number" | "integer" | "boolean" | "date" | "json" | "array" | "reference";
                        required?: boolean;
                        unique?: boolean;
                        default?: unknown;
                        min?: number;
                        max?: number;
                        pattern?: string;
                        enum?: (string | number)[];
                        collection?: string;
                        /** @enum {string} */
                        items?: "string" | "number" | "integer" | "boolean" | "date";
                        /** @enum {string} */
                        onDelete?: "cascade" | "setNull" | "restrict";
                    }[];
                    /** @default [] */
                    indexes?: (string[] | {
                        fields: string[];
                        unique?: boolean;
                        where?: {
                            [key: string]: unknown;
                        };
                        search?: boolean;
                        /** @enum {string} */
                        language?: "simple" | "english" | "french" | "german" | "spanish" | "italian" | "portuguese" | "dutch" | "danish" | "finnish" | "norwegian" | "swedish" | "russian";
                    })[];
                    /**
                     * @default {
                     *       "list": "admin",
                     *       "read": "admin",
                     *       "create": "admin",
                     *       "update": "admin",
                     *       "delete": "admin"
                     *     }
                     */
                    rules?: {
                        /**
                         * @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows)
                         * @default admin
                         */
                        list?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /**
                         * @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows)
                         * @default admin
                         */
                        read?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /**
                         * @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows)
                         * @default admin
                         */
                        create?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /**
                         * @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows)
                         * @default admin
                         */
                        update?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /**
                         * @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows)
                         * @default admin
                         */
                        delete?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Collection"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    collectionsGet: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Collection"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    collectionsRemove: {
        parameters: {
            query?: {
                /** @description also delete the documents of a non-empty collection */
                force?: "true" | "false";
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    collectionsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    fields?: {
                        name: string;
                        /** @enum {string} */
                        type: "string" | "number" | "integer" | "boolean" | "date" | "json" | "array" | "reference";
                        required?: boolean;
                        unique?: boolean;
                        default?: unknown;
                        min?: number;
                        max?: number;
                        pattern?: string;
                        enum?: (string | number)[];
                        collection?: string;
                        /** @enum {string} */
                        items?: "string" | "number" | "integer" | "boolean" | "date";
                        /** @enum {string} */
                        onDelete?: "cascade" | "setNull" | "restrict";
                    }[];
                    indexes?: (string[] | {
                        fields: string[];
                        unique?: boolean;
                        where?: {
                            [key: string]: unknown;
                        };
                        search?: boolean;
                        /** @enum {string} */
                        language?: "simple" | "english" | "french" | "german" | "spanish" | "italian" | "portuguese" | "dutch" | "danish" | "finnish" | "norwegian" | "swedish" | "russian";
                    })[];
                    rules?: {
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        list?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        read?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        create?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        update?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        delete?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Collection"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    documentsList: {
        parameters: {
            query?: {
                /** @description comma-separated fields to return (id and version are always returned) */
                fields?: string;
                /** @description comma-separated reference fields to replace by the referenced document */
                expand?: string;
                /** @description JSON filter, e.g. {"age":{"$gte":18}} */
                filter?: string;
                /** @description comma-separated fields, - for descending; default createdAt */
                sort?: string;
                limit?: number;
                /** @description nextCursor of the previous page */
                cursor?: string;
                /** @description also return the total number of matching documents */
                count?: "true" | "false";
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    /** @description Present when no index serves part of the filter or sort: what to index (or search) so that the list stays fast on a large collection */
                    "x-index-advice"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DocumentList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    documentsCreate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description the URL of the created resource */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Document"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    documentsGet: {
        parameters: {
            query?: {
                /** @description comma-separated fields to return (id and version are always returned) */
                fields?: string;
                /** @description comma-separated reference fields to replace by the referenced document */
                expand?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectedDocument"];
                };
            };
            /** @description Not modified: `If-None-Match` names the current version (after the read check) */
            304: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    documentsReplace: {
        parameters: {
            query?: never;
            header?: {
                /** @description the expected version (the ETag, e.g. "3"); 412 PRECONDITION_FAILED when the document has changed */
                "If-Match"?: string;
            };
            path: {
                name: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Document"];
                };
            };
            /** @description OK */
            201: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description the URL of the created resource */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Document"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    documentsRemove: {
        parameters: {
            query?: never;
            header?: {
                /** @description the expected version (the ETag, e.g. "3"); 412 PRECONDITION_FAILED when the document has changed */
                "If-Match"?: string;
            };
            path: {
                name: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    documentsPatch: {
        parameters: {
            query?: never;
            header?: {
                /** @description the expected version (the ETag, e.g. "3"); 412 PRECONDITION_FAILED when the document has changed */
                "If-Match"?: string;
            };
            path: {
                name: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Document"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    batchRun: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description true: all operations apply, or none
                     * @default false
                     */
                    transaction?: boolean;
                    operations: ({
                        /** @enum {string} */
                        op: "create";
                        collection: string;
                        /** @description the document fields, optionally acl: { read?: [...], write?: [...] }, and when creating optionally id (a UUID the client chooses) */
                        data: {
                            [key: string]: unknown;
                        };
                    } | {
                        /** @enum {string} */
                        op: "get";
                        collection: string;
                        /** Format: uuid */
                        id: string;
                    } | {
                        /** @enum {string} */
                        op: "replace";
                        collection: string;
                        /** Format: uuid */
                        id: string;
                        /** @description the document fields, optionally acl: { read?: [...], write?: [...] }, and when creating optionally id (a UUID the client chooses) */
                        data: {
                            [key: string]: unknown;
                        };
                        /** @description the expected version (as If-Match) */
                        ifMatch?: number;
                    } | {
                        /** @enum {string} */
                        op: "update";
                        collection: string;
                        /** Format: uuid */
                        id: string;
                        /** @description the document fields, optionally acl: { read?: [...], write?: [...] }, and when creating optionally id (a UUID the client chooses) */
                        data: {
                            [key: string]: unknown;
                        };
                        /** @description the expected version (as If-Match) */
                        ifMatch?: number;
                    } | {
                        /** @enum {string} */
                        op: "delete";
                        collection: string;
                        /** Format: uuid */
                        id: string;
                        /** @description the expected version (as If-Match) */
                        ifMatch?: number;
                    })[];
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailSend: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    to: string | string[];
                    subject?: string;
                    text?: string;
                    html?: string;
                    template?: string;
                    data?: {
                        [key: string]: string | number | boolean;
                    };
                };
            };
        };
        responses: {
            /** @description Stored and queued; the worker delivers it */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailQueued"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailListMessages: {
        parameters: {
            query?: {
                status?: "queued" | "sent" | "failed";
                to?: string;
                limit?: number;
                /** @description nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed) */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailMessageList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailGetMessage: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailMessage"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailRetryMessage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailMessage"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailListTemplates: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailTemplateList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailGetTemplate: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailTemplate"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailPutTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    subject: string;
                    html: string;
                    text: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailTemplate"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailDeleteTemplate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    emailPreview: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    data?: {
                        [key: string]: string | number | boolean;
                    };
                    draft?: {
                        subject: string;
                        html: string;
                        text: string;
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EmailPreview"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsList: {
        parameters: {
            query?: {
                limit?: number;
                /** @description nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed) */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FunctionList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsListAllRuns: {
        parameters: {
            query?: {
                function?: string;
                status?: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
                trigger?: "http" | "db" | "storage" | "auth" | "schedule";
                eventId?: string;
                limit?: number;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsGetRun: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"] | components["schemas"]["CallerRun"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsRetry: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A new run is queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Replay"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsGet: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Function"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsDeploy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description default [{ "type": "http" }] (access authenticated) */
                    triggers?: ({
                        /** @enum {string} */
                        type: "http";
                        /** @description who may invoke: public, authenticated (default), service, or role:<name> */
                        access?: components["schemas"]["HttpAccess"];
                        /** @description the user who invoked a run may read its logs (default false) */
                        callerLogs?: boolean;
                        /**
                         * @description ctx.db, ctx.storage and ctx.email act as the function (default) or as the caller who invoked it (their rules apply)
                         * @enum {string}
                         */
                        runAs?: "function" | "caller";
                    } | {
                        /** @enum {string} */
                        type: "db";
                        collection: string;
                        events: ("create" | "update" | "delete")[];
                    } | {
                        /** @enum {string} */
                        type: "storage";
                        bucket: string;
                        events: ("upload" | "delete")[];
                    } | {
                        /** @enum {string} */
                        type: "auth";
                        events: ("signup" | "link" | "unlink" | "mfa_enrolled")[];
                    } | {
                        /** @enum {string} */
                        type: "schedule";
                        cron: string;
                        timezone?: string;
                    })[];
                    /** @description default 10000 */
                    timeoutMs?: number;
                    /** @description default 128 */
                    memoryMb?: number;
                    /** @description extra attempts of an event-triggered or async run; default 2 */
                    retries?: number;
                    /** @description first retry delay, doubled each retry; default 1000 */
                    backoffMs?: number;
                    /** @description most runs of this function at once; default 10 */
                    concurrency?: number;
                    /** @description replaces all secrets when given; omitted keeps the current ones; {} clears; never returned */
                    secrets?: {
                        [key: string]: string;
                    };
                    source: string;
                    /**
                     * @description ts (default) also accepts plain JavaScript
                     * @enum {string}
                     */
                    language?: "js" | "ts";
                };
            };
        };
        responses: {
            /** @description A new version of an existing function */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Function"];
                };
            };
            /** @description The first version of a new function */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Function"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsPatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description default [{ "type": "http" }] (access authenticated) */
                    triggers?: ({
                        /** @enum {string} */
                        type: "http";
                        /** @description who may invoke: public, authenticated (default), service, or role:<name> */
                        access?: components["schemas"]["HttpAccess"];
                        /** @description the user who invoked a run may read its logs (default false) */
                        callerLogs?: boolean;
                        /**
                         * @description ctx.db, ctx.storage and ctx.email act as the function (default) or as the caller who invoked it (their rules apply)
                         * @enum {string}
                         */
                        runAs?: "function" | "caller";
                    } | {
                        /** @enum {string} */
                        type: "db";
                        collection: string;
                        events: ("create" | "update" | "delete")[];
                    } | {
                        /** @enum {string} */
                        type: "storage";
                        bucket: string;
                        events: ("upload" | "delete")[];
                    } | {
                        /** @enum {string} */
                        type: "auth";
                        events: ("signup" | "link" | "unlink" | "mfa_enrolled")[];
                    } | {
                        /** @enum {string} */
                        type: "schedule";
                        cron: string;
                        timezone?: string;
                    })[];
                    /** @description default 10000 */
                    timeoutMs?: number;
                    /** @description default 128 */
                    memoryMb?: number;
                    /** @description extra attempts of an event-triggered or async run; default 2 */
                    retries?: number;
                    /** @description first retry delay, doubled each retry; default 1000 */
                    backoffMs?: number;
                    /** @description most runs of this function at once; default 10 */
                    concurrency?: number;
                    /** @description replaces all secrets when given; omitted keeps the current ones; {} clears; never returned */
                    secrets?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Function"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsRollback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description the version whose code and settings become current again (as a new version) */
                    version: number;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Function"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsVersions: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FunctionVersionList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsUsage: {
        parameters: {
            query?: {
                /** @description first day (UTC), default 29 days before `to` */
                from?: string;
                /** @description last day (UTC), default today */
                to?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FunctionUsage"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsRuns: {
        parameters: {
            query?: {
                function?: string;
                status?: "queued" | "running" | "succeeded" | "failed" | "timed_out" | "dead";
                trigger?: "http" | "db" | "storage" | "auth" | "schedule";
                eventId?: string;
                limit?: number;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    functionsInvoke: {
        parameters: {
            query?: {
                async?: "true" | "false";
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        /** @description any JSON: becomes event.payload (null when absent) */
        requestBody?: {
            content: {
                "application/json": unknown;
            };
        };
        responses: {
            /** @description The run finished (succeeded, failed or timed out) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invocation"];
                };
            };
            /** @description With ?async=true, or when the run did not finish in time: the run is queued or running */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invocation"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    healthLive: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Liveness"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    healthReady: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every check is up */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description At least one check is down; the body names it */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    overviewGet: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminOverview"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageListBuckets: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BucketList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageCreateBucket: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    /** @default false */
                    public?: boolean;
                    /**
                     * @description bytes; null = the platform limit
                     * @default null
                     */
                    maxFileSize?: number | null;
                    /**
                     * @description empty = any type
                     * @default []
                     */
                    allowedMimeTypes?: string[];
                    /** @description rules over the file (key, segments, size, contentType, ...) and the caller: read grants reading; create/update/delete narrow writes */
                    rules?: {
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        read?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        create?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        update?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        delete?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Bucket"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageUpdateBucket: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                bucket: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description rules over the file (key, segments, size, contentType, ...) and the caller: read grants reading; create/update/delete narrow writes */
                    rules: {
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        read?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        create?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        update?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                        /** @description public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows) */
                        delete?: (string | {
                            [key: string]: unknown;
                        }) | (string | {
                            [key: string]: unknown;
                        })[];
                    } | null;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Bucket"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageListFiles: {
        parameters: {
            query?: {
                prefix?: string;
                limit?: number;
                /** @description nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed) */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                bucket: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FileList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                bucket: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description key inside the bucket, e.g. avatars/me.png; default <id>/<file name> */
                    key?: string;
                    /** @description JSON {"read": [...], "write": [...]} with *, user:<id>, role:<name> */
                    acl?: string;
                    /** Format: binary */
                    file: string;
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["File"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageUploadUrl: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                bucket: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description defaults to the new file id */
                    key?: string;
                    /** @description exact size in bytes of the object that will be PUT */
                    size: number;
                    contentType: string;
                    acl?: {
                        /** @default [] */
                        read?: string[];
                        /** @default [] */
                        write?: string[];
                    };
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadUrl"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageGetFile: {
        parameters: {
            query?: never;
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["File"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageDeleteFile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageUpdateFile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    acl?: {
                        /** @default [] */
                        read?: string[];
                        /** @default [] */
                        write?: string[];
                    };
                    key?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["File"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageContent: {
        parameters: {
            query?: {
                /** @description true: always served as an attachment */
                download?: "0" | "1" | "true" | "false";
            };
            header?: {
                /** @description one byte range, e.g. bytes=0-1023 (206, or 416 when unsatisfiable) */
                Range?: string;
                /** @description an ETag the client holds: 304 when it is still current */
                "If-None-Match"?: string;
                /** @description an ETag: the Range applies only while it is current */
                "If-Range"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The whole file */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description One byte range */
            206: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The range is malformed or outside the file */
            416: {
                headers: {
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageContentHead: {
        parameters: {
            query?: {
                /** @description true: always served as an attachment */
                download?: "0" | "1" | "true" | "false";
            };
            header?: {
                /** @description one byte range, e.g. bytes=0-1023 (206, or 416 when unsatisfiable) */
                Range?: string;
                /** @description an ETag the client holds: 304 when it is still current */
                "If-None-Match"?: string;
                /** @description an ETag: the Range applies only while it is current */
                "If-Range"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The whole file */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description One byte range */
            206: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The range is malformed or outside the file */
            416: {
                headers: {
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageDownloadUrl: {
        parameters: {
            query?: {
                /** @description true: always served as an attachment */
                download?: "0" | "1" | "true" | "false";
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DownloadUrl"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageComplete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["File"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageSigned: {
        parameters: {
            query: {
                token: string;
            };
            header?: {
                /** @description one byte range, e.g. bytes=0-1023 (206, or 416 when unsatisfiable) */
                Range?: string;
                /** @description an ETag the client holds: 304 when it is still current */
                "If-None-Match"?: string;
                /** @description an ETag: the Range applies only while it is current */
                "If-Range"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The whole object */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description One byte range */
            206: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The range is malformed or outside the object */
            416: {
                headers: {
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageSignedUpload: {
        parameters: {
            query: {
                /** @description the signed token of the URL */
                token: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "*/*": string;
            };
        };
        responses: {
            /** @description Stored; finish with POST /v1/storage/files/{id}/complete */
            200: {
                headers: {
                    /** @description the stored object, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    storageSignedHead: {
        parameters: {
            query: {
                token: string;
            };
            header?: {
                /** @description one byte range, e.g. bytes=0-1023 (206, or 416 when unsatisfiable) */
                Range?: string;
                /** @description an ETag the client holds: 304 when it is still current */
                "If-None-Match"?: string;
                /** @description an ETag: the Range applies only while it is current */
                "If-Range"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The whole object */
            200: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description One byte range */
            206: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    /** @description bytes */
                    "Accept-Ranges"?: string;
                    /** @description bytes in this answer */
                    "Content-Length"?: number;
                    /** @description inline, or attachment for active types and ?download=true */
                    "Content-Disposition"?: string;
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the returned representation, quoted */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The range is malformed or outside the object */
            416: {
                headers: {
                    /** @description the byte range sent, e.g. bytes 0-99/1234 (or bytes *\/1234 on a 416) */
                    "Content-Range"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    transferExportUsers: {
        parameters: {
            query?: {
                limit?: number;
                /** @description nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed) */
                cursor?: string;
            };
            header?: {
                /** @description an ETag from an earlier answer */
                "If-None-Match"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TransferUserList"];
                };
            };
            /** @description Not modified: If-None-Match names the current ETag */
            304: {
                headers: {
                    /** @description the version of the answer, quoted; send it as If-None-Match to get a 304 when unchanged */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    transferImportUsers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    users: components["schemas"]["TransferUser"][];
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportUsersResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    transferImportDocuments: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    documents: components["schemas"]["TransferDocument"][];
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportResult"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    transferImportFile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                bucket: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /**
                     * Format: uuid
                     * @description the file id to keep
                     */
                    id?: string;
                    /** @description the key inside the bucket */
                    key?: string;
                    /** @description the owner user id, empty for none */
                    ownerId?: string;
                    /** Format: date-time */
                    createdAt?: string;
                    /** @description JSON {"read": [...], "write": [...]} */
                    acl?: string;
                    /** Format: binary */
                    file: string;
                };
            };
        };
        responses: {
            /** @description OK */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["File"];
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    metricsScrape: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    realtimeWebsocket: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Switching protocols: the WebSocket is open */
            101: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    realtimeSse: {
        parameters: {
            query?: {
                /** @description the collection (or `bucket`) */
                collection?: string;
                /** @description the bucket whose files to follow (or `collection`) */
                bucket?: string;
                /** @description a filter in the list-query language (JSON) */
                filter?: string;
                /** @description only this document */
                id?: string;
                /** @description projection, as `fields` of a GET */
                fields?: string;
                /** @description resume after this event id */
                since?: string;
                /** @description an access token, for EventSource (which cannot send headers) */
                access_token?: string;
            };
            header?: {
                /** @description resume after this event id (sent by EventSource on reconnect) */
                "Last-Event-ID"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event stream */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            "4XX": components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
}
