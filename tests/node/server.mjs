// Shared helpers for the Node client suites: one Gatehouse server process per test file, the
// admin SDK client used for set-up (pools, app clients, users), raw AWS JSON 1.1 calls, the
// development outbox, JWT decoding, small storages, a recorder of what the clients send, and
// amazon-cognito-identity-js's callbacks as promises.
//
// The binary comes from $GATEHOUSE_BIN, else <repo>/target/release/gatehouse, else
// <repo>/target/debug/gatehouse. The server runs with --dev on a free port of 127.0.0.1 and a
// fresh data directory, and is stopped (and its data directory removed) when the file's tests end.
//
// With GATEHOUSE_TEST_ENDPOINT=http://HOST:PORT (a --dev server, or tests/python/cluster.py's
// proxy in front of several processes) no process is started: each file uses that server, starting
// from an empty store (POST /_gatehouse/reset), and leaves it running.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import identityJs from 'amazon-cognito-identity-js';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Amplify } from 'aws-amplify';
import { signOut } from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';
export const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
export const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
export const AMZ_JSON = 'application/x-amz-json-1.1';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export function gatehouseBinary() {
  if (process.env.GATEHOUSE_BIN) return process.env.GATEHOUSE_BIN;
  const release = join(REPO, 'target', 'release', 'gatehouse');
  if (existsSync(release)) return release;
  return join(REPO, 'target', 'debug', 'gatehouse');
}

async function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every child still running when this process exits is killed, whatever ended the tests.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * A `gatehouse serve --dev` process. `await GatehouseServer.start()` returns once GET /health
 * answers {"status":"ok"}; `await server.stop()` sends SIGTERM and waits.
 */
export class GatehouseServer {
  /**
   * `args`: more `serve` flags (a process of its own is started for them, even when
   * GATEHOUSE_TEST_ENDPOINT names a server: that one was started without them).
   */
  static async start({ args = [] } = {}) {
    const server = new GatehouseServer();
    const endpoint = process.env.GATEHOUSE_TEST_ENDPOINT;
    if (endpoint && args.length === 0) await server.#attach(endpoint.replace(/\/+$/, ''));
    else await server.#start(args);
    return server;
  }

  #child = null;
  #exited = null;
  #external = false;

  /** Use a server started by someone else: check its health, then empty its store. */
  async #attach(url) {
    this.#external = true;
    this.url = url;
    this.logPath = null;
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
    const body = await health.json();
    if (health.status !== 200 || body.status !== 'ok' || body.dev !== true) {
      throw new Error(`GATEHOUSE_TEST_ENDPOINT ${url} is not a healthy --dev server: ${health.status} ${JSON.stringify(body)}`);
    }
    await this.reset();
    this.admin = adminClient(this.url);
  }

  /** POST /_gatehouse/reset (--dev): an empty store. */
  async reset() {
    const resp = await fetch(`${this.url}/_gatehouse/reset`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
    await resp.arrayBuffer();
    if (resp.status !== 200) throw new Error(`reset: HTTP ${resp.status}`);
  }

  async #start(args) {
    const binary = gatehouseBinary();
    if (!existsSync(binary)) {
      throw new Error(`gatehouse binary not found at ${binary}; set GATEHOUSE_BIN`);
    }
    this.baseDir = mkdtempSync(join(tmpdir(), 'gatehouse-node-'));
    this.dataDir = join(this.baseDir, 'data');
    this.logPath = join(this.baseDir, 'server.log');
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const log = openSync(this.logPath, 'a');
    const child = spawn(
      binary,
      [
        'serve', '--dev',
        '--listen', `127.0.0.1:${this.port}`,
        '--data-dir', this.dataDir,
        '--region', REGION,
        '--account-id', ACCOUNT_ID,
        ...args,
      ],
      {
        stdio: ['ignore', log, log],
        env: {
          ...process.env,
          GATEHOUSE_ACCESS_KEY_ID: ACCESS_KEY_ID,
          GATEHOUSE_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
        },
      },
    );
    closeSync(log);
    this.#child = child;
    running.add(child);
    this.#exited = new Promise((r) => child.on('exit', (code, signal) => {
      running.delete(child);
      r({ code, signal });
    }));
    let exitInfo = null;
    this.#exited.then((info) => { exitInfo = info; });

    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = null;
    while (Date.now() < deadline) {
      if (exitInfo) {
        throw new Error(`gatehouse exited early (${JSON.stringify(exitInfo)}); log:\n${this.logTail()}`);
      }
      // Until this child has bound its port, a /health answer there may be another server's
      // (the port found free can be taken first; then this child exits with "cannot listen").
      if (!readFileSync(this.logPath, 'utf8').includes('gatehouse listening')) {
        await sleep(20);
        continue;
      }
      try {
        const resp = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
        const body = await resp.json();
        if (resp.status === 200 && body.status === 'ok') {
          this.admin = adminClient(this.url);
          return;
        }
        lastError = new Error(`health answered ${resp.status} ${JSON.stringify(body)}`);
      } catch (e) {
        lastError = e;
      }
      await sleep(50);
    }
    await this.stop();
    throw new Error(`gatehouse did not become healthy (${lastError}); log:\n${this.logTail()}`);
  }

  async stop() {
    if (this.#external) {
      this.admin?.destroy();
      this.admin = null;
      return;
    }
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    this.admin?.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer;
      const timedOut = await Promise.race([
        this.#exited.then(() => false),
        new Promise((r) => { timer = setTimeout(() => r(true), STOP_TIMEOUT_MS); }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        child.kill('SIGKILL');
        await this.#exited;
      }
    }
    if (!process.env.GATEHOUSE_KEEP_DATA) {
      rmSync(this.baseDir, { recursive: true, force: true });
    } else {
      console.log(`# gatehouse data and log kept in ${this.baseDir}`);
    }
  }

  logTail(n = 4000) {
    if (this.#external) return `(external server ${this.url}: see its logs)`;
    try {
      return readFileSync(this.logPath, 'utf8').slice(-n);
    } catch {
      return '';
    }
  }

  /** One unsigned AWS JSON 1.1 call (the way the browser clients send them). */
  call(operation, body) {
    return rawCall(this.url, operation, body);
  }

  issuer(poolId) {
    return `${this.url}/${poolId}`;
  }

  /**
   * The messages Gatehouse "sent" to a user (--dev outbox), oldest first; only those with this
   * Purpose (MFA, FORGOT_PASSWORD, VERIFY_ATTRIBUTE, ...) when `purpose` is given.
   */
  async outbox(poolId, username, purpose) {
    const query = new URLSearchParams({ poolId, username });
    const resp = await fetch(`${this.url}/_gatehouse/outbox?${query}`);
    if (resp.status !== 200) throw new Error(`outbox: HTTP ${resp.status}`);
    const messages = (await resp.json()).Messages;
    return purpose === undefined ? messages : messages.filter((m) => m.Purpose === purpose);
  }

  jwksUrl(poolId) {
    return `${this.url}/${poolId}/.well-known/jwks.json`;
  }

  /** Whether the server was started elsewhere (GATEHOUSE_TEST_ENDPOINT): maybe several processes. */
  get external() {
    return this.#external;
  }

  /** POST /_gatehouse/clock (--dev): the server's clock runs `seconds` ahead (0: back). */
  async moveClock(seconds) {
    const resp = await fetch(`${this.url}/_gatehouse/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ OffsetSeconds: seconds }),
    });
    if (resp.status !== 200) throw new Error(`clock: HTTP ${resp.status}`);
    return resp.json();
  }

  /**
   * `gatehouse device-policy --pool POOL ...flags` on this server's data dir (docs/devices.md);
   * the parsed policy. The server sees it within a second.
   */
  devicePolicy(poolId, ...flags) {
    const run = spawnSync(gatehouseBinary(),
      ['device-policy', '--pool', poolId, '--data-dir', this.dataDir, ...flags], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`device-policy: ${run.stderr}`);
    return JSON.parse(run.stdout);
  }
}

/** The v3 SDK client for admin (SigV4-signed) set-up calls; one attempt, no retries. */
export function adminClient(url) {
  return new CognitoIdentityProviderClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    maxAttempts: 1,
  });
}

/**
 * POST / with the AWS JSON 1.1 headers and no signature. Returns {status, headers, body, text}
 * whatever the status; `body` is the parsed JSON (or null).
 */
export async function rawCall(url, operation, body) {
  const resp = await fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'Content-Type': AMZ_JSON,
      'X-Amz-Target': TARGET_PREFIX + operation,
    },
    body: JSON.stringify(body ?? {}),
  });
  const text = await resp.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: resp.status, headers: resp.headers, body: json, text };
}

/** Assert an AWS JSON 1.1 error answer: HTTP 400, body {__type, message}, exact message if given. */
export function assertAwsError(resp, type, message) {
  const shown = `${resp.status} ${resp.text}`;
  assert.equal(resp.status, 400, shown);
  assert.ok(resp.body, `error body is not JSON: ${shown}`);
  assert.equal(resp.body.__type, type, shown);
  if (message !== undefined) assert.equal(resp.body.message, message, shown);
}

/** Assert a 200 answer and return its JSON body. */
export function assertOk(resp) {
  assert.equal(resp.status, 200, `${resp.status} ${resp.text}`);
  return resp.body;
}

/** Header and payload of a JWT (no verification). */
export function decodeJwt(token) {
  assert.equal(typeof token, 'string', `not a JWT: ${token}`);
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token}`);
  const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: part(parts[0]), payload: part(parts[1]) };
}

/**
 * Create a user pool, an app client without secret that allows SRP, password and refresh sign-in,
 * and a confirmed user with a permanent password. `poolOptions` go into CreateUserPool (e.g.
 * DeviceConfiguration), `clientOptions` into CreateUserPoolClient. Returns {poolId, clientId,
 * username, password, attributes, sub}.
 */
export async function createPoolWithUser(admin, {
  poolName = 'node-clients',
  username = 'alice',
  password = 'Correct-Horse-1',
  attributes = { email: 'alice@example.com', email_verified: 'true', given_name: 'Alice' },
  poolOptions = {},
  clientOptions = {},
} = {}) {
  const pool = await admin.send(new CreateUserPoolCommand({ PoolName: poolName, ...poolOptions }));
  const poolId = pool.UserPool.Id;
  const client = await admin.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId,
    ClientName: `${poolName}-app`,
    GenerateSecret: false,
    ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    ...clientOptions,
  }));
  const clientId = client.UserPoolClient.ClientId;
  const sub = await createUser(admin, poolId, username, password, attributes);
  return { poolId, clientId, username, password, attributes, sub };
}

/**
 * AdminCreateUser (no message) then AdminSetUserPassword Permanent: the user is CONFIRMED.
 * Returns the user's sub.
 */
export async function createUser(admin, poolId, username, password, attributes = {}) {
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: poolId,
    Username: username,
    MessageAction: 'SUPPRESS',
    UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
  }));
  await admin.send(new AdminSetUserPasswordCommand({
    UserPoolId: poolId,
    Username: username,
    Password: password,
    Permanent: true,
  }));
  const user = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
  assert.equal(user.UserStatus, 'CONFIRMED');
  const sub = user.UserAttributes.find((a) => a.Name === 'sub')?.Value;
  assert.ok(sub, `no sub in ${JSON.stringify(user.UserAttributes)}`);
  return sub;
}

/**
 * A Web Storage-like object in memory (setItem/getItem/removeItem/clear), for
 * amazon-cognito-identity-js (synchronous) and Amplify's KeyValueStorage (promises are awaited
 * there, plain values work too).
 */
export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }

  setItem(key, value) {
    this.items.set(key, String(value));
    return this.items.get(key);
  }

  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }

  removeItem(key) {
    return this.items.delete(key);
  }

  clear() {
    this.items.clear();
    return {};
  }

  keys() {
    return [...this.items.keys()].sort();
  }
}

/** Assert the claims every Gatehouse access token of this pool, client and user carries. */
export function assertAccessClaims(payload, { issuer, clientId, username, sub }) {
  assert.equal(payload.token_use, 'access');
  assert.equal(payload.iss, issuer);
  assert.equal(payload.client_id, clientId);
  assert.equal(payload.username, username);
  assert.equal(payload.scope, 'aws.cognito.signin.user.admin');
  if (sub !== undefined) assert.equal(payload.sub, sub);
  assert.match(payload.sub, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  for (const claim of ['origin_jti', 'event_id', 'jti']) {
    assert.equal(typeof payload[claim], 'string', `${claim} in ${JSON.stringify(payload)}`);
  }
  assertTimes(payload);
  assert.equal(payload.aud, undefined, 'access tokens carry client_id, not aud');
}

/** Assert the claims every Gatehouse ID token of this pool, client and user carries. */
export function assertIdClaims(payload, { issuer, clientId, username, sub }) {
  assert.equal(payload.token_use, 'id');
  assert.equal(payload.iss, issuer);
  assert.equal(payload.aud, clientId);
  assert.equal(payload['cognito:username'], username);
  if (sub !== undefined) assert.equal(payload.sub, sub);
  for (const claim of ['origin_jti', 'event_id', 'jti']) {
    assert.equal(typeof payload[claim], 'string', `${claim} in ${JSON.stringify(payload)}`);
  }
  assertTimes(payload);
  assert.equal(payload.client_id, undefined, 'ID tokens carry aud, not client_id');
}

function assertTimes(payload) {
  const now = Math.floor(Date.now() / 1000);
  for (const claim of ['auth_time', 'iat', 'exp']) {
    assert.ok(Number.isInteger(payload[claim]), `${claim} must be an integer: ${JSON.stringify(payload)}`);
  }
  assert.ok(Math.abs(payload.iat - now) <= 60, `iat ${payload.iat} far from now ${now}`);
  assert.ok(payload.auth_time <= payload.iat, 'auth_time after iat');
  assert.ok(payload.exp > now, 'already expired');
  assert.equal(payload.exp - payload.iat, 3600, 'default lifetime is one hour');
}

/**
 * Records what the JavaScript clients send, by wrapping the global fetch (never altering a
 * request or an answer). Only requests with X-Amz-User-Agent are recorded: both clients set it,
 * the tests' own raw calls (`server.call`) do not, so what is recorded is exactly what a client
 * sent. Returns the helpers over the record:
 * - `mark()`: a position to look from;
 * - `since(m)`: the exchanges since `m` ({operation, request, status, body, text}: the shape
 *   assertAwsError and assertOk take);
 * - `callsSince(m)`: the operations since `m`, as "Operation status";
 * - `shown(m)`: the exchanges since `m` as JSON, for assertion messages.
 */
export function recordClientExchanges() {
  const exchanges = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers ?? {});
    const target = headers.get('x-amz-target');
    const resp = await realFetch(input, init);
    if (target?.startsWith(TARGET_PREFIX) && headers.has('x-amz-user-agent')) {
      const text = await resp.clone().text();
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // kept as text for the assertion messages
      }
      exchanges.push({
        operation: target.slice(TARGET_PREFIX.length),
        request: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
        status: resp.status,
        body,
        text,
      });
    }
    return resp;
  };
  const mark = () => exchanges.length;
  const since = (m) => exchanges.slice(m);
  const callsSince = (m) => since(m).map((e) => `${e.operation} ${e.status}`);
  const shown = (m) => JSON.stringify(since(m).map(({ operation, request, status, text }) => ({
    operation, request, status, text,
  })), null, 1);
  return { mark, since, callsSince, shown };
}

/**
 * Points Amplify v6 (a process-wide singleton) at `fixture`'s pool and app client on `server`,
 * with a fresh token store; returns the store.
 */
export function configureAmplify(server, fixture) {
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: fixture.poolId,
        userPoolClientId: fixture.clientId,
        userPoolEndpoint: server.url,
      },
    },
  });
  const storage = new MemoryStorage();
  cognitoUserPoolsTokenProvider.setKeyValueStorage(storage);
  return storage;
}

/** Amplify's signOut, when a test left a user signed in. */
export async function signOutIfSignedIn() {
  try {
    await signOut();
  } catch {
    // nothing to sign out of
  }
}

// ---------------------------------------------------------------------------------------------
// amazon-cognito-identity-js as promises.

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identityJs;

/**
 * authenticateUser as a promise. Resolves {kind: 'success', session, userConfirmationNecessary};
 * with `mfa: true` also {kind: 'totp' | 'sms', challengeName, challengeParameters} when the library
 * calls totpRequired / mfaRequired. Any other challenge callback is a failure.
 */
export function authenticate(user, username, password, { mfa = false } = {}) {
  return new Promise((resolve, reject) => {
    const unexpected = (name) => (...args) =>
      reject(new Error(`unexpected ${name} callback: ${JSON.stringify(args)}`));
    const challenge = (kind) => (challengeName, challengeParameters) =>
      resolve({ kind, challengeName, challengeParameters });
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: (session, userConfirmationNecessary) =>
        resolve({ kind: 'success', session, userConfirmationNecessary }),
      onFailure: reject,
      totpRequired: mfa ? challenge('totp') : unexpected('totpRequired'),
      mfaRequired: mfa ? challenge('sms') : unexpected('mfaRequired'),
      newPasswordRequired: unexpected('newPasswordRequired'),
      customChallenge: unexpected('customChallenge'),
      mfaSetup: unexpected('mfaSetup'),
      selectMFAType: unexpected('selectMFAType'),
    });
  });
}

/** A CognitoUser method taking {onSuccess, onFailure} last, as a promise. */
export function callback(user, method, ...args) {
  return new Promise((resolve, reject) => {
    user[method](...args, { onSuccess: resolve, onFailure: reject });
  });
}

/** A CognitoUser method taking a node-style (err, result) callback last, as a promise. */
export function nodeCall(user, method, ...args) {
  return new Promise((resolve, reject) => {
    user[method](...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** signOut with token revocation (RevokeToken), as a promise. */
export function signOutUser(user) {
  return new Promise((resolve, reject) => {
    user.signOut((err) => (err ? reject(err) : resolve()));
  });
}

/** For assert.rejects: an identity-js error with this code (and message, when given). */
export function isError(code, message) {
  return (err) => {
    assert.equal(err.code, code, `code of ${err.stack}`);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  };
}

/**
 * An identity-js CognitoUserPool for `fixture` (createPoolWithUser's answer) on `server`, over a
 * storage of its own: {storage, pool, newUser(username?), storageKey(name), stored(name)}, where
 * `stored` reads what the library keeps for the fixture's user under `name` (deviceKey,
 * accessToken, ...).
 */
export function identityJsClient(server, fixture) {
  const storage = new MemoryStorage();
  const pool = new CognitoUserPool({
    UserPoolId: fixture.poolId,
    ClientId: fixture.clientId,
    endpoint: `${server.url}/`,
    Storage: storage,
  });
  const storageKey = (name) => `CognitoIdentityServiceProvider.${fixture.clientId}.${fixture.username}.${name}`;
  return {
    storage,
    pool,
    newUser: (username = fixture.username) => new CognitoUser({ Username: username, Pool: pool, Storage: storage }),
    storageKey,
    stored: (name) => storage.getItem(storageKey(name)),
  };
}

// ---------------------------------------------------------------------------------------------
// What the clients exchanged (recordClientExchanges' records).

/**
 * A sign-in that passed device SRP, from the client's request that presented the device key:
 * `presented` (the PASSWORD_VERIFIER or SOFTWARE_TOKEN_MFA answer, or USER_PASSWORD_AUTH's
 * InitiateAuth) → DEVICE_SRP_AUTH; `srpAuth` (the DEVICE_SRP_AUTH answer) →
 * DEVICE_PASSWORD_VERIFIER; `verifier` (the DEVICE_PASSWORD_VERIFIER answer) → tokens of `username`
 * bound to the device, no new key. With `session`, DEVICE_SRP_AUTH must carry that Session (the
 * MFA challenge's). Returns the AuthenticationResult.
 */
export function assertDeviceSrp([presented, srpAuth, verifier], { deviceKey, username, session }) {
  assert.equal(presented.status, 200, presented.text);
  assert.equal(presented.body.ChallengeName, 'DEVICE_SRP_AUTH', presented.text);
  assert.deepEqual(presented.body.ChallengeParameters, {});
  assert.equal(presented.body.AuthenticationResult, undefined);
  const deviceSession = presented.body.Session;
  assert.equal(typeof deviceSession, 'string');
  if (session !== undefined) {
    assert.equal(deviceSession, session, 'DEVICE_SRP_AUTH after the MFA challenge keeps its Session');
  }

  assert.equal(srpAuth.operation, 'RespondToAuthChallenge');
  assert.equal(srpAuth.request.ChallengeName, 'DEVICE_SRP_AUTH');
  assert.equal(srpAuth.request.ChallengeResponses.DEVICE_KEY, deviceKey);
  assert.equal(srpAuth.request.Session, deviceSession);
  assert.equal(srpAuth.status, 200, srpAuth.text);
  assert.equal(srpAuth.body.ChallengeName, 'DEVICE_PASSWORD_VERIFIER', srpAuth.text);
  assert.equal(srpAuth.body.Session, deviceSession, 'every challenge of one sign-in carries the same Session');
  const params = srpAuth.body.ChallengeParameters;
  assert.deepEqual(Object.keys(params).sort(), ['DEVICE_KEY', 'SALT', 'SECRET_BLOCK', 'SRP_B', 'USERNAME']);
  assert.equal(params.USERNAME, username);
  assert.equal(params.DEVICE_KEY, deviceKey);
  assert.match(params.SRP_B, /^[0-9a-fA-F]+$/);
  assert.match(params.SALT, /^[0-9a-fA-F]+$/);
  assert.match(params.SECRET_BLOCK, /^[A-Za-z0-9+/]+=*$/);

  assert.equal(verifier.operation, 'RespondToAuthChallenge');
  assert.equal(verifier.request.ChallengeName, 'DEVICE_PASSWORD_VERIFIER');
  assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
  assert.equal(verifier.status, 200, verifier.text);
  assert.equal(verifier.body.ChallengeName, undefined, verifier.text);
  const result = verifier.body.AuthenticationResult;
  assert.ok(result?.AccessToken && result.IdToken && result.RefreshToken, verifier.text);
  assert.equal(result.NewDeviceMetadata, undefined, 'a device that proved itself gets no new key');
  const access = decodeJwt(result.AccessToken).payload;
  assert.equal(access.username, username);
  assert.equal(access.device_key, deviceKey);
  return result;
}
