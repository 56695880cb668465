// creds.mjs drives the clerktest emulator's API key and OAuth endpoints with
// Clerk's official JavaScript SDK, @clerk/backend, configured as for Clerk
// itself. ../../jssdk_test.go (TestOfficialJSSDKMachineCredentials) starts
// the emulator, sets the environment below, runs this script and checks the
// JSON it prints.
//
//   CLERK_API_URL              the emulator's origin, e.g. http://127.0.0.1:41234
//   CLERK_API_VERSION          "v1": the SDK joins URL, version and path
//   CLERK_SECRET_KEY           the instance's secret key (sk_test_…)
//   CLERK_PUBLISHABLE_KEY      the instance's publishable key (pk_test_…)
//   CALLER_MACHINE_SECRET_KEY  a machine (ak_…) scoped to the receiver, to mint M2M tokens
//   RECEIVER_MACHINE_SECRET_KEY a machine key, which may not verify API keys or OAuth tokens
//   USER_ID                    the user (user_…) the API key and OAuth tokens are for
//   EXPIRED_OAUTH_JWT          an OAuth JWT access token that has expired
//
// OAuth access tokens come from the emulator's own POST /v1/__emulator/oauth_access_tokens
// (Clerk issues them at the end of OAuth flows), called with fetch.
//
// It prints one JSON object of results and exits 1 on any unexpected failure.
// Secret keys are never printed; token values are not either.
import { createClerkClient, verifyToken } from '@clerk/backend';
import { verifyMachineAuthToken } from '@clerk/backend/internal';

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is not set`);
  }
  return v;
}

const apiUrl = env('CLERK_API_URL');
const apiVersion = env('CLERK_API_VERSION');
const secretKey = env('CLERK_SECRET_KEY');
const publishableKey = env('CLERK_PUBLISHABLE_KEY');
const callerKey = env('CALLER_MACHINE_SECRET_KEY');
const receiverKey = env('RECEIVER_MACHINE_SECRET_KEY');
const userId = env('USER_ID');
const expiredOAuthJWT = env('EXPIRED_OAUTH_JWT');

// apiError is what the test needs from a thrown error or a verification error.
function apiError(err) {
  return {
    name: err?.constructor?.kind ?? err?.constructor?.name ?? typeof err,
    code: typeof err?.code === 'string' ? err.code : null,
    status: err?.status ?? null,
    codes: (err?.errors ?? []).map((e) => e.code),
    message: typeof err?.message === 'string' ? err.message.slice(0, 200) : null,
  };
}

async function expectError(what, fn) {
  try {
    const got = await fn();
    throw new Error(`${what}: succeeded with ${JSON.stringify(got)}, want an error`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${what}: succeeded`)) {
      throw err;
    }
    return apiError(err);
  }
}

function apiKey(k) {
  return {
    id: k.id,
    type: k.type,
    name: k.name,
    subject: k.subject,
    scopes: k.scopes,
    claims: k.claims,
    revoked: k.revoked,
    revocationReason: k.revocationReason ?? null,
    expired: k.expired,
    expiration: k.expiration,
    createdBy: k.createdBy ?? null,
    description: k.description ?? null,
    lastUsedAt: k.lastUsedAt ?? null,
    createdAt: k.createdAt,
    hasSecret: typeof k.secret === 'string' && k.secret.startsWith('ak_'),
  };
}

function oauthToken(t) {
  if (t && t.active === false) {
    return { active: false };
  }
  return {
    id: t.id,
    clientId: t.clientId,
    subject: t.subject,
    scopes: t.scopes,
    revoked: t.revoked,
    expired: t.expired,
    expiration: t.expiration,
    createdAt: t.createdAt,
  };
}

// machine summarizes verifyMachineAuthToken's answer.
function machine(r) {
  if (r.errors) {
    return { tokenType: r.tokenType, error: apiError(r.errors[0]) };
  }
  return { tokenType: r.tokenType, id: r.data.id, subject: r.data.subject, scopes: r.data.scopes ?? null, clientId: r.data.clientId ?? null };
}

// auth summarizes authenticateRequest's state.
function auth(state) {
  const a = state.toAuth();
  return {
    isAuthenticated: state.isAuthenticated,
    tokenType: state.tokenType,
    reason: state.reason ?? null,
    id: a?.id ?? null,
    subject: a?.subject ?? null,
    scopes: a?.scopes ?? null,
    userId: a?.userId ?? null,
    orgId: a?.orgId ?? null,
    clientId: a?.clientId ?? null,
    machineId: a?.machineId ?? null,
    name: a?.name ?? null,
  };
}

// mint asks the emulator for an OAuth access token.
async function mint(body) {
  const res = await fetch(`${apiUrl}/${apiVersion}/__emulator/oauth_access_tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) {
    throw new Error(`minting an OAuth access token: ${res.status} ${await res.text()}`);
  }
  return res.json();
}

async function main() {
  const out = {};
  const clerk = createClerkClient({ secretKey, publishableKey, apiUrl, apiVersion });
  const asMachine = createClerkClient({ secretKey: receiverKey, apiUrl, apiVersion });

  // API keys.
  const created = await clerk.apiKeys.create({
    name: 'reports-reader',
    subject: userId,
    scopes: ['reports:read'],
    claims: { team: 'finance' },
    description: 'reads reports',
    secondsUntilExpiration: 3600,
  });
  out.apiKeyCreated = apiKey(created);
  out.apiKeyGet = apiKey(await clerk.apiKeys.get(created.id));
  out.apiKeySecretMatches = (await clerk.apiKeys.getSecret(created.id)).secret === created.secret;
  const keys = await clerk.apiKeys.list({ subject: userId });
  out.apiKeyList = { totalCount: keys.totalCount, ids: keys.data.map((k) => k.id) };
  out.apiKeyVerified = apiKey(await clerk.apiKeys.verify(created.secret));
  out.apiKeyVerifyWithMachineKey = await expectError('verify an API key with a machine key', () =>
    asMachine.apiKeys.verify(created.secret),
  );

  // OAuth applications and tokens.
  const app = await clerk.oauthApplications.create({ name: 'agent', redirectUris: ['https://agent.example/cb'], scopes: 'profile email' });
  out.oauthApp = { id: app.id, clientId: app.clientId, hasSecret: !!app.clientSecret, instanceId: app.instanceId };
  const apps = await clerk.oauthApplications.list();
  out.oauthAppList = { totalCount: apps.totalCount, clientIds: apps.data.map((a) => a.clientId) };
  const opaque = await mint({ user_id: userId, client_id: app.clientId, scopes: ['read', 'write'], format: 'opaque' });
  const jwt = await mint({ user_id: userId, client_id: app.clientId, scopes: ['read'], format: 'jwt', audience: ['https://mcp.example/mcp'] });
  out.oauthIds = { opaque: opaque.id, jwt: jwt.id };
  out.idpOpaque = oauthToken(await clerk.idPOAuthAccessToken.verify(opaque.token));
  out.idpJWT = oauthToken(await clerk.idPOAuthAccessToken.verify(jwt.token));
  out.idpExpiredJWT = oauthToken(await clerk.idPOAuthAccessToken.verify(expiredOAuthJWT));
  out.idpWithMachineKey = await expectError('verify an OAuth token with a machine key', () =>
    asMachine.idPOAuthAccessToken.verify(opaque.token),
  );

  // M2M tokens, for the "any" checks.
  const m2mOpaque = await clerk.m2m.createToken({ machineSecretKey: callerKey, secondsUntilExpiration: 600 });
  const m2mJWT = await clerk.m2m.createToken({ machineSecretKey: callerKey, tokenFormat: 'jwt', secondsUntilExpiration: 600 });

  // Every kind through the machine token verifier authenticateRequest uses,
  // and through authenticateRequest({acceptsToken: 'any'}).
  const kinds = {
    m2mOpaque: m2mOpaque.token,
    m2mJWT: m2mJWT.token,
    apiKey: created.secret,
    oauthOpaque: opaque.token,
    oauthJWT: jwt.token,
  };
  const options = { secretKey, apiUrl, apiVersion };
  out.verifyMachine = {};
  out.authenticateAny = {};
  for (const [kind, token] of Object.entries(kinds)) {
    out.verifyMachine[kind] = machine(await verifyMachineAuthToken(token, options));
    const req = new Request('https://api.service.test/reports', { headers: { Authorization: `Bearer ${token}` } });
    out.authenticateAny[kind] = auth(await clerk.authenticateRequest(req, { acceptsToken: 'any' }));
  }
  out.verifyMachineExpiredOAuthJWT = machine(await verifyMachineAuthToken(expiredOAuthJWT, options));
  // verifyToken is for session tokens: it refuses an OAuth JWT by its typ.
  out.verifyTokenOAuthJWT = await expectError('verifyToken of an OAuth JWT', () => verifyToken(jwt.token, options));

  // Revoked and expired credentials are refused.
  await clerk.apiKeys.revoke({ apiKeyId: created.id, revocationReason: 'rotated' });
  out.apiKeyVerifyRevoked = await expectError('verify a revoked API key', () => clerk.apiKeys.verify(created.secret));
  await clerk.oauthApplications.revokeToken({ oauthApplicationId: app.id, token: opaque.token });
  out.idpRevoked = await expectError('verify a revoked OAuth token', () => clerk.idPOAuthAccessToken.verify(opaque.token));
  for (const [kind, token] of Object.entries({ apiKey: created.secret, oauthOpaque: opaque.token, oauthExpiredJWT: expiredOAuthJWT })) {
    const req = new Request('https://api.service.test/reports', { headers: { Authorization: `Bearer ${token}` } });
    out.authenticateAny[`${kind}Refused`] = auth(await clerk.authenticateRequest(req, { acceptsToken: 'any' }));
  }
  // A token of a kind the route does not accept is refused before any call.
  const only = new Request('https://api.service.test/reports', { headers: { Authorization: `Bearer ${kinds.oauthOpaque}` } });
  out.authenticateMismatch = auth(await clerk.authenticateRequest(only, { acceptsToken: 'api_key' }));
  return out;
}

try {
  process.stdout.write(JSON.stringify(await main()) + '\n');
} catch (err) {
  process.stderr.write(`creds.mjs: ${err?.stack ?? err}\n`);
  if (err?.errors) {
    process.stderr.write(`creds.mjs: API errors: ${JSON.stringify(apiError(err))}\n`);
  }
  process.exit(1);
}
