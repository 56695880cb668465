// m2m.mjs drives the clerktest emulator with Clerk's official JavaScript SDK,
// @clerk/backend, configured as for Clerk itself: an API URL, a version, keys.
// ../../jssdk_test.go (TestOfficialJSSDK) starts the emulator, sets the
// environment below, runs this script and checks the JSON it prints.
//
//   CLERK_API_URL             the emulator's origin, e.g. http://127.0.0.1:41234
//   CLERK_API_VERSION         "v1": the SDK joins URL, version and path
//   CLERK_SECRET_KEY          the instance's secret key (sk_test_…)
//   CALLER_MACHINE_ID         the calling machine (mch_…) and its key (ak_…)
//   CALLER_MACHINE_SECRET_KEY
//   RECEIVER_MACHINE_ID       the machine the caller is scoped to, and its key
//   RECEIVER_MACHINE_SECRET_KEY
//
// It prints one JSON object of results and exits 1 on any unexpected failure.
// Secret keys are never printed; token values are, as the emulator's are
// throw-away test values.
import { createClerkClient } from '@clerk/backend';

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
const callerID = env('CALLER_MACHINE_ID');
const callerKey = env('CALLER_MACHINE_SECRET_KEY');
const receiverID = env('RECEIVER_MACHINE_ID');
const receiverKey = env('RECEIVER_MACHINE_SECRET_KEY');

// apiError is what the test needs from a thrown error: its class (Clerk's
// errors name it in a static kind), HTTP status and Clerk error codes, or the
// SDK's own code for a local verification failure.
function apiError(err) {
  return {
    name: err?.constructor?.kind ?? err?.constructor?.name ?? typeof err,
    code: typeof err?.code === 'string' ? err.code : null,
    status: err?.status ?? null,
    codes: (err?.errors ?? []).map((e) => e.code),
    clerkTraceId: err?.clerkTraceId ?? null,
  };
}

// expectError runs fn, which must throw; it returns the error's summary.
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

// token keeps the fields of an M2MToken the test checks.
function token(t) {
  return {
    id: t.id,
    token: t.token ?? null,
    subject: t.subject,
    scopes: t.scopes,
    claims: t.claims,
    revoked: t.revoked,
    revocationReason: t.revocationReason ?? null,
    expired: t.expired,
    expiration: t.expiration,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

function machine(m) {
  return {
    id: m.id,
    name: m.name,
    instanceId: m.instanceId,
    defaultTokenTtl: m.defaultTokenTtl,
    scopedMachines: (m.scopedMachines ?? []).map((s) => s.id),
  };
}

async function main() {
  const out = {};
  // The instance's client, as a Clerk backend builds it; M2M calls pick a
  // machine key per call with machineSecretKey.
  const clerk = createClerkClient({ secretKey, apiUrl, apiVersion });
  // A receiving service that only has its machine key.
  const receiver = createClerkClient({ machineSecretKey: receiverKey, apiUrl, apiVersion });

  // Opaque token, created by the caller.
  const created = await clerk.m2m.createToken({
    machineSecretKey: callerKey,
    secondsUntilExpiration: 120,
    claims: { job: 'sync', n: 1 },
  });
  out.created = token(created);

  // Verified by the receiving machine (client-level and per-call key) and by the instance.
  out.verifiedByReceiver = token(await receiver.m2m.verify({ token: created.token }));
  out.verifiedByReceiverPerCall = token(await clerk.m2m.verify({ token: created.token, machineSecretKey: receiverKey }));
  out.verifiedByInstance = token(await clerk.m2m.verify({ token: created.token }));

  // How a receiving server authenticates an inbound request.
  const state = await receiver.authenticateRequest(
    new Request('http://receiver.test/jobs', { headers: { Authorization: `Bearer ${created.token}` } }),
    { acceptsToken: 'm2m_token' },
  );
  const auth = state.toAuth();
  out.authenticateRequest = {
    isAuthenticated: state.isAuthenticated,
    tokenType: state.tokenType,
    id: auth?.id ?? null,
    subject: auth?.subject ?? null,
    scopes: auth?.scopes ?? null,
    claims: auth?.claims ?? null,
  };

  // The caller's tokens.
  const list = await clerk.m2m.list({ subject: callerID, machineSecretKey: callerKey });
  out.list = { totalCount: list.totalCount, ids: list.data.map((t) => t.id) };
  const listAsInstance = await clerk.m2m.list({ subject: callerID });
  out.listByInstance = { totalCount: listAsInstance.totalCount, ids: listAsInstance.data.map((t) => t.id) };

  // Revoke, then verify again: Clerk answers 404.
  out.revoked = token(
    await clerk.m2m.revokeToken({ m2mTokenId: created.id, revocationReason: 'done', machineSecretKey: callerKey }),
  );
  out.verifyRevoked = await expectError('verify revoked', () => receiver.m2m.verify({ token: created.token }));
  out.verifyUnknown = await expectError('verify unknown', () => clerk.m2m.verify({ token: 'mt_unknown' }));
  const revokedState = await receiver.authenticateRequest(
    new Request('http://receiver.test/jobs', { headers: { Authorization: `Bearer ${created.token}` } }),
    { acceptsToken: 'm2m_token' },
  );
  out.authenticateRevoked = {
    isAuthenticated: revokedState.isAuthenticated,
    reason: revokedState.reason ?? null,
    message: revokedState.message ?? null,
  };
  out.verifyWrongKey = await expectError('verify with an unknown machine key', () =>
    clerk.m2m.verify({ token: created.token, machineSecretKey: 'ak_wrong' }),
  );
  out.createWithInstanceKey = await expectError('create with the instance key', () => clerk.m2m.createToken());
  const listRevoked = await clerk.m2m.list({ subject: callerID, revoked: true, machineSecretKey: callerKey });
  out.listRevoked = { totalCount: listRevoked.totalCount, ids: listRevoked.data.map((t) => t.id) };

  // JWT format: the SDK verifies it locally with the instance's JWKS
  // (GET /v1/jwks with the secret key), not through POST /m2m_tokens/verify.
  const jwt = await clerk.m2m.createToken({
    machineSecretKey: callerKey,
    tokenFormat: 'jwt',
    secondsUntilExpiration: 300,
    claims: { role: 'reader' },
  });
  out.jwtCreated = token(jwt);
  out.jwtVerified = token(await clerk.m2m.verify({ token: jwt.token }));
  const tampered = jwt.token.slice(0, -4) + (jwt.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  out.jwtTampered = await expectError('verify a tampered JWT', () => clerk.m2m.verify({ token: tampered }));

  // Machines, as the instance.
  out.machineGet = machine(await clerk.machines.get(callerID));
  const machines = await clerk.machines.list();
  out.machineList = { totalCount: machines.totalCount, ids: machines.data.map((m) => m.id) };
  const secret = await clerk.machines.getSecretKey(callerID);
  out.machineSecretKeyMatches = secret.secret === callerKey;
  const spare = await clerk.machines.create({ name: 'spare', defaultTokenTtl: 60 });
  out.machineCreate = machine(spare);
  out.machineUpdate = machine(await clerk.machines.update({ machineId: spare.id, name: 'spare-2' }));
  const scope = await clerk.machines.createScope(spare.id, receiverID);
  out.scopeCreate = { fromMachineId: scope.fromMachineId, toMachineId: scope.toMachineId };
  out.scopeCreateTwice = await expectError('create a scope twice', () => clerk.machines.createScope(spare.id, receiverID));
  const unscope = await clerk.machines.deleteScope(spare.id, receiverID);
  out.scopeDelete = { object: unscope.object ?? null, deleted: unscope.deleted ?? null };
  const deleted = await clerk.machines.delete(spare.id);
  out.machineDelete = { id: deleted.id ?? null, deleted: deleted.deleted ?? null };
  out.machineGetDeleted = await expectError('get a deleted machine', () => clerk.machines.get(spare.id));
  return out;
}

try {
  process.stdout.write(JSON.stringify(await main()) + '\n');
} catch (err) {
  process.stderr.write(`m2m.mjs: ${err?.stack ?? err}\n`);
  if (err?.errors) {
    process.stderr.write(`m2m.mjs: API errors: ${JSON.stringify(apiError(err))}\n`);
  }
  process.exit(1);
}
