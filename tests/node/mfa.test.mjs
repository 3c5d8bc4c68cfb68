// MFA with the real, unmodified JavaScript clients against a Gatehouse server process:
// authenticator-app enrolment (AssociateSoftwareToken / VerifySoftwareToken with an access token),
// the user's preference (SetUserMFAPreference), the SOFTWARE_TOKEN_MFA challenge at sign-in, SMS
// codes (SMS_MFA, the code read from the development outbox), and the suppression of both on
// remembered devices. The contract is docs/mfa.md (and docs/devices.md).
//
// TOTP codes are computed here with node:crypto (RFC 6238: HMAC-SHA1 over the 8-byte big-endian
// 30-second step counter, 6 digits) from the base32 SecretCode the server handed out. The server
// accepts one step either side of now, and each step at most once per secret (the enrolment step
// is spent), so `Authenticator.nextCode()` always takes a step later than the last one used: the
// next step right after enrolment (accepted as +1), waiting for the clock when that is not
// possible, and never starting within 5 s of a step's end.
//
// What went over the wire: both clients call the global fetch, which this file observes (never
// alters). Only requests that carry X-Amz-User-Agent (both clients set it, the test's own raw
// calls through server.call do not) are recorded, so `callsSince(mark)` is exactly what the client
// sent since `mark`.
//
// Amplify confirms a device only when there is a `navigator` (see devices.test.mjs); the
// remembered-device Amplify suite installs a minimal one, which stays for the suites after it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

import {
  confirmSignIn,
  fetchAuthSession,
  fetchMFAPreference,
  rememberDevice,
  setUpTOTP,
  signIn,
  signOut,
  updateMFAPreference,
  verifyTOTPSetup,
} from 'aws-amplify/auth';
import {
  AdminGetDeviceCommand,
  AdminListUserAuthEventsCommand,
  AdminGetUserCommand,
  AdminSetUserMFAPreferenceCommand,
  GetUserPoolMfaConfigCommand,
  SetUserPoolMfaConfigCommand,
  UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  GatehouseServer,
  assertDeviceSrp,
  assertOk,
  authenticate,
  callback,
  configureAmplify,
  createPoolWithUser,
  decodeJwt,
  identityJsClient,
  isError,
  recordClientExchanges,
  signOutIfSignedIn,
  signOutUser,
  sleep,
} from './server.mjs';

const AMPLIFY_DEVICE_NAME = 'Mozilla/5.0 (X11; Linux x86_64) gatehouse-node-mfa-test';
/** Threat protection recording sign-ins (docs/devices.md "Sign-in events"): it never acts. */
const AUDIT = { UserPoolAddOns: { AdvancedSecurityMode: 'AUDIT' } };
const PASSWORD_OK = { ChallengeName: 'Password', ChallengeResponse: 'Success' };

/** The user's sign-in events, newest first (AdminListUserAuthEvents). */
async function authEvents(server, fixture) {
  const { AuthEvents } = await server.admin.send(new AdminListUserAuthEventsCommand({
    UserPoolId: fixture.poolId, Username: fixture.username,
  }));
  return AuthEvents;
}

async function rememberedStatus(server, fixture, deviceKey) {
  const device = await server.admin.send(new AdminGetDeviceCommand({
    UserPoolId: fixture.poolId, Username: fixture.username, DeviceKey: deviceKey,
  }));
  return device.Device.DeviceAttributes.find((a) => a.Name === 'dev:device_remembered_status')?.Value;
}

/**
 * Under a 30-day device lifetime (`gatehouse device-policy`), with the server's clock moved 31
 * days on (--dev), runs `signInAgain`; the clock goes back after. False when the server was
 * started elsewhere (its processes' clocks cannot be moved together).
 */
async function thirtyOneDaysLater(server, poolId, signInAgain) {
  if (server.external) return false;
  assert.equal(server.devicePolicy(poolId, '--remembered-days', '30').RememberedDays, 30);
  await sleep(1200); // the server's copy of the pool is at most 800 ms old
  await server.moveClock(31 * 86_400);
  try {
    await signInAgain();
  } finally {
    await server.moveClock(0);
  }
  return true;
}
const PASSWORD = 'Correct-Horse-1';
const DONE = { isSignedIn: true, nextStep: { signInStep: 'DONE' } };
const TOTP_STEP = { isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' } };
const SECRET_CODE_PATTERN = /^[A-Z2-7]{52}$/;

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238).

const STEP_SECONDS = 30;
const MIN_REMAINING_MS = 5_000;

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    assert.ok(index >= 0, `not base32: ${text}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of `secret` (base32) for the 30-second step `step`. */
function totpCode(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);
const msLeftInStep = () => STEP_SECONDS * 1000 - (Date.now() % (STEP_SECONDS * 1000));

/** Wait, if need be, so that at least 5 s remain in the current step. */
async function awayFromStepEnd() {
  const left = msLeftInStep();
  if (left < MIN_REMAINING_MS) await sleep(left + 250);
}

/** An authenticator app holding one secret: codes for steps not used yet. */
class Authenticator {
  constructor(secret) {
    assert.match(secret, SECRET_CODE_PATTERN, 'SecretCode: base32 without padding, 32 bytes');
    this.secret = secret;
    this.lastStep = -Infinity; // the latest step whose code was handed out
    this.lastCode = null;
  }

  /**
   * The enrolment code: the previous step's (the server accepts one step either side), at least
   * 5 s before the current step ends, so the current step's code is still fresh for the sign-in
   * that follows and no test waits for the clock.
   */
  async currentCode() {
    await awayFromStepEnd();
    return this.#take(currentStep() - 1);
  }

  /**
   * A code the server has not seen for this secret: the current step, or the next one (accepted
   * as +1) when the current one is spent; waits for the clock when both are spent.
   */
  async nextCode() {
    for (;;) {
      await awayFromStepEnd();
      const now = currentStep();
      const step = Math.max(now, this.lastStep + 1);
      if (step <= now + 1) return this.#take(step);
      await sleep(msLeftInStep() + 250);
    }
  }

  /** A six-digit code that is wrong for every step the server could accept now or soon. */
  wrongCode() {
    const now = currentStep();
    const near = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(this.secret, now + d)));
    let n = (Number(totpCode(this.secret, now)) + 500_000) % 1_000_000;
    while (near.has(String(n).padStart(6, '0'))) n = (n + 1) % 1_000_000;
    return String(n).padStart(6, '0');
  }

  #take(step) {
    this.lastStep = step;
    this.lastCode = totpCode(this.secret, step);
    return this.lastCode;
  }
}

// ---------------------------------------------------------------------------------------------
// Observing the clients' requests.

const { mark, since, callsSince, shown } = recordClientExchanges();

// ---------------------------------------------------------------------------------------------
// Assertions.

/** `resp` (a recorded exchange) answered the SOFTWARE_TOKEN_MFA challenge; returns its Session. */
function assertTotpChallenge(resp, username) {
  assert.equal(resp.status, 200, resp.text);
  assert.equal(resp.body.ChallengeName, 'SOFTWARE_TOKEN_MFA', resp.text);
  assert.deepEqual(resp.body.ChallengeParameters, { USER_ID_FOR_SRP: username });
  assert.equal(resp.body.AuthenticationResult, undefined, resp.text);
  assert.equal(typeof resp.body.Session, 'string', resp.text);
  assert.ok(resp.body.Session.length > 0, 'empty Session');
  return resp.body.Session;
}

/** `req` (a recorded exchange) is the client's SOFTWARE_TOKEN_MFA answer with `code`. */
function assertTotpAnswer(req, { username, code, session, deviceKey }) {
  assert.equal(req.operation, 'RespondToAuthChallenge');
  assert.equal(req.request.ChallengeName, 'SOFTWARE_TOKEN_MFA');
  assert.equal(req.request.Session, session, 'the answer carries the challenge Session');
  assert.equal(req.request.ChallengeResponses.USERNAME, username);
  assert.equal(req.request.ChallengeResponses.SOFTWARE_TOKEN_MFA_CODE, code);
  assert.equal(req.request.ChallengeResponses.DEVICE_KEY, deviceKey);
}

/** A CodeMismatchException answer (recorded exchange). */
function assertCodeMismatch(resp) {
  assert.equal(resp.status, 400, resp.text);
  assert.equal(resp.body.__type, 'CodeMismatchException', resp.text);
  assert.equal(resp.body.message, 'Invalid code received for user', resp.text);
}

/** The answer ended the sign-in with tokens for `username`; returns the AuthenticationResult. */
function assertTokens(resp, username) {
  assert.equal(resp.status, 200, resp.text);
  assert.equal(resp.body.ChallengeName, undefined, resp.text);
  const result = resp.body.AuthenticationResult;
  assert.ok(result?.AccessToken && result.IdToken && result.RefreshToken, resp.text);
  assert.equal(decodeJwt(result.AccessToken).payload.username, username);
  return result;
}

/** No request since `m` answered or received SOFTWARE_TOKEN_MFA. */
function assertNoTotp(m) {
  for (const e of since(m)) {
    assert.notEqual(e.body?.ChallengeName, 'SOFTWARE_TOKEN_MFA', shown(m));
    assert.notEqual(e.request?.ChallengeName, 'SOFTWARE_TOKEN_MFA', shown(m));
  }
}

// ---------------------------------------------------------------------------------------------
// Set-up.

const TOTP_POOL = {
  MfaConfiguration: 'OPTIONAL',
  SoftwareTokenMfaConfiguration: { Enabled: true },
};

/** A pool (with `deviceConfiguration` if given), app client and user; TOTP allowed, MFA OPTIONAL. */
async function mfaPool(server, { poolName, username, deviceConfiguration, audit = false }) {
  const fixture = await createPoolWithUser(server.admin, {
    poolName,
    username,
    password: PASSWORD,
    attributes: { email: `${username}@example.com`, email_verified: 'true' },
    poolOptions: {
      ...(deviceConfiguration ? { DeviceConfiguration: deviceConfiguration } : {}),
      ...(audit ? AUDIT : {}),
    },
  });
  await setTotpPool(server, fixture.poolId);
  return fixture;
}

async function setTotpPool(server, poolId) {
  const set = await server.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, ...TOTP_POOL }));
  assert.equal(set.MfaConfiguration, 'OPTIONAL');
  assert.equal(set.SoftwareTokenMfaConfiguration?.Enabled, true);
  const got = await server.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }));
  assert.equal(got.MfaConfiguration, 'OPTIONAL');
  assert.equal(got.SoftwareTokenMfaConfiguration?.Enabled, true);
}

async function adminMfaSettings(server, fixture) {
  const user = await server.admin.send(new AdminGetUserCommand({
    UserPoolId: fixture.poolId, Username: fixture.username,
  }));
  return { list: user.UserMFASettingList, preferred: user.PreferredMfaSetting };
}

/**
 * Enrol the user's authenticator with raw user calls (USER_PASSWORD_AUTH for an access token;
 * no device is confirmed): AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference
 * (TOTP enabled and preferred). Returns the Authenticator (enrolment step spent).
 */
async function enrolRaw(server, fixture) {
  const signedIn = assertOk(await server.call('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: fixture.clientId,
    AuthParameters: { USERNAME: fixture.username, PASSWORD: fixture.password },
  }));
  const accessToken = signedIn.AuthenticationResult.AccessToken;
  const { SecretCode } = assertOk(await server.call('AssociateSoftwareToken', { AccessToken: accessToken }));
  const app = new Authenticator(SecretCode);
  const verified = assertOk(await server.call('VerifySoftwareToken', {
    AccessToken: accessToken, UserCode: await app.currentCode(), FriendlyDeviceName: 'raw',
  }));
  assert.equal(verified.Status, 'SUCCESS');
  assertOk(await server.call('SetUserMFAPreference', {
    AccessToken: accessToken,
    SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
  }));
  assert.deepEqual(await adminMfaSettings(server, fixture), {
    list: ['SOFTWARE_TOKEN_MFA'], preferred: 'SOFTWARE_TOKEN_MFA',
  });
  return app;
}

// ---------------------------------------------------------------------------------------------
// amazon-cognito-identity-js as promises.

/** sendMFACode(code, callbacks, 'SOFTWARE_TOKEN_MFA') as a promise. */
function sendTotp(user, code) {
  return new Promise((resolve, reject) => {
    user.sendMFACode(code, {
      onSuccess: (session, userConfirmationNecessary) => resolve({ session, userConfirmationNecessary }),
      onFailure: reject,
    }, 'SOFTWARE_TOKEN_MFA');
  });
}

/** sendMFACode(code, callbacks) as a promise: the library's default, SMS_MFA. */
function sendSmsCode(user, code) {
  return new Promise((resolve, reject) => {
    user.sendMFACode(code, {
      onSuccess: (session, userConfirmationNecessary) => resolve({ session, userConfirmationNecessary }),
      onFailure: reject,
    });
  });
}

/** An Amplify AuthError with this name (and message, when given). */
function isAuthError(name, message) {
  return (err) => {
    assert.equal(err.name, name, `name of ${err.stack}`);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  };
}

// ---------------------------------------------------------------------------------------------

describe('authenticator-app (TOTP) MFA', () => {
  let server;

  before(async () => {
    server = await GatehouseServer.start();
  });

  after(async () => {
    await server?.stop();
  });

  describe('Amplify v6 (aws-amplify): setUpTOTP, verifyTOTPSetup, updateMFAPreference, CONFIRM_SIGN_IN_WITH_TOTP_CODE', () => {
    let fixture;
    let storage;
    let app;

    const credentials = () => ({ username: fixture.username, password: fixture.password });

    before(async () => {
      fixture = await mfaPool(server, { poolName: 'mfa-amplify', username: 'grace' });
      storage = configureAmplify(server, fixture);
    });

    after(signOutIfSignedIn);

    test('signIn before enrolment needs no code; setUpTOTP answers a base32 secret (AssociateSoftwareToken)', async () => {
      let m = mark();
      assert.deepEqual(await signIn(credentials()), DONE);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
      assert.deepEqual(await fetchMFAPreference(), { preferred: undefined, enabled: undefined });

      const { tokens } = await fetchAuthSession();
      m = mark();
      const details = await setUpTOTP();
      assert.deepEqual(callsSince(m), ['AssociateSoftwareToken 200'], shown(m));
      assert.deepEqual(since(m)[0].request, { AccessToken: tokens.accessToken.toString() });
      assert.equal(since(m)[0].body.SecretCode, details.sharedSecret);
      app = new Authenticator(details.sharedSecret);
      const uri = details.getSetupUri('Gatehouse');
      assert.equal(uri.searchParams.get('secret'), details.sharedSecret);
    });

    test('verifyTOTPSetup: a wrong code is EnableSoftwareTokenMFAException, the right one SUCCESS (VerifySoftwareToken)', async () => {
      const { tokens } = await fetchAuthSession();
      let m = mark();
      await assert.rejects(
        verifyTOTPSetup({ code: app.wrongCode() }),
        isAuthError('EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA'),
      );
      assert.deepEqual(callsSince(m), ['VerifySoftwareToken 400'], shown(m));

      const code = await app.currentCode();
      m = mark();
      await verifyTOTPSetup({ code, options: { friendlyDeviceName: 'phone' } });
      assert.deepEqual(callsSince(m), ['VerifySoftwareToken 200'], shown(m));
      assert.deepEqual(since(m)[0].request, {
        AccessToken: tokens.accessToken.toString(), UserCode: code, FriendlyDeviceName: 'phone',
      });
      assert.equal(since(m)[0].body.Status, 'SUCCESS', since(m)[0].text);
      // Verifying is not enabling: SetUserMFAPreference does that.
      assert.deepEqual(await fetchMFAPreference(), { preferred: undefined, enabled: undefined });
    });

    test('updateMFAPreference({totp: PREFERRED}) (SetUserMFAPreference); fetchMFAPreference shows it', async () => {
      const m = mark();
      await updateMFAPreference({ totp: 'PREFERRED' });
      assert.deepEqual(callsSince(m), ['SetUserMFAPreference 200'], shown(m));
      assert.deepEqual(since(m)[0].request.SoftwareTokenMfaSettings, { Enabled: true, PreferredMfa: true });
      assert.equal(since(m)[0].request.SMSMfaSettings, undefined);
      assert.deepEqual(await fetchMFAPreference(), { preferred: 'TOTP', enabled: ['TOTP'] });
      assert.deepEqual(await adminMfaSettings(server, fixture), {
        list: ['SOFTWARE_TOKEN_MFA'], preferred: 'SOFTWARE_TOKEN_MFA',
      });
    });

    test('after signOut, signIn (SRP) stops at CONFIRM_SIGN_IN_WITH_TOTP_CODE; a wrong code is CodeMismatchException, the right one signs in', async () => {
      await signOut();
      let m = mark();
      assert.deepEqual(await signIn(credentials()), TOTP_STEP);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
      const [, verifier] = since(m);
      assert.equal(verifier.request.ChallengeName, 'PASSWORD_VERIFIER');
      const session = assertTotpChallenge(verifier, fixture.username);
      assert.equal(storage.getItem(`CognitoIdentityServiceProvider.${fixture.clientId}.${fixture.username}.accessToken`), null);

      const wrong = app.wrongCode();
      m = mark();
      await assert.rejects(
        confirmSignIn({ challengeResponse: wrong }),
        isAuthError('CodeMismatchException', 'Invalid code received for user'),
      );
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 400'], shown(m));
      assertTotpAnswer(since(m)[0], { username: fixture.username, code: wrong, session, deviceKey: undefined });
      assertCodeMismatch(since(m)[0]);

      // The next step's code (the enrolment step is spent), accepted as +1; same Session.
      const code = await app.nextCode();
      m = mark();
      assert.deepEqual(await confirmSignIn({ challengeResponse: code }), DONE);
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 200'], shown(m));
      assertTotpAnswer(since(m)[0], { username: fixture.username, code, session, deviceKey: undefined });
      const result = assertTokens(since(m)[0], fixture.username);
      assert.equal(result.NewDeviceMetadata, undefined, 'no device tracking on this pool');

      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.toString(), result.AccessToken);
      assertOk(await server.call('GetUser', { AccessToken: result.AccessToken }));
    });
  });

  describe('amazon-cognito-identity-js 6.3: associateSoftwareToken, verifySoftwareToken, setUserMfaPreference, totpRequired', () => {
    let fixture;
    let w;
    let user;
    let app;

    before(async () => {
      fixture = await mfaPool(server, { poolName: 'mfa-identity-js', username: 'heidi' });
      w = identityJsClient(server, fixture);
    });

    test('enrolment with an access token, then the preference', async () => {
      user = w.newUser();
      const signedIn = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(signedIn.kind, 'success', 'no MFA before enrolment');
      const accessToken = signedIn.session.getAccessToken().getJwtToken();

      let m = mark();
      const secret = await new Promise((resolve, reject) => {
        user.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject });
      });
      assert.deepEqual(callsSince(m), ['AssociateSoftwareToken 200'], shown(m));
      assert.deepEqual(since(m)[0].request, { AccessToken: accessToken });
      app = new Authenticator(secret);

      // A wrong code first: refused, the pending secret stays.
      await assert.rejects(
        new Promise((resolve, reject) => {
          user.verifySoftwareToken(app.wrongCode(), 'phone', { onSuccess: resolve, onFailure: reject });
        }),
        isError('EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA'),
      );
      const code = await app.currentCode();
      m = mark();
      const verified = await new Promise((resolve, reject) => {
        user.verifySoftwareToken(code, 'phone', { onSuccess: resolve, onFailure: reject });
      });
      assert.deepEqual(verified, { Status: 'SUCCESS' });
      assert.deepEqual(callsSince(m), ['VerifySoftwareToken 200'], shown(m));
      assert.deepEqual(since(m)[0].request, { AccessToken: accessToken, UserCode: code, FriendlyDeviceName: 'phone' });
      assert.deepEqual(await adminMfaSettings(server, fixture), { list: undefined, preferred: undefined });

      m = mark();
      const set = await new Promise((resolve, reject) => {
        user.setUserMfaPreference(null, { Enabled: true, PreferredMfa: true },
          (err, result) => (err ? reject(err) : resolve(result)));
      });
      assert.equal(set, 'SUCCESS');
      assert.deepEqual(callsSince(m), ['SetUserMFAPreference 200'], shown(m));
      assert.deepEqual(since(m)[0].request, {
        SMSMfaSettings: null,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
        AccessToken: accessToken,
      });
      assert.deepEqual(await adminMfaSettings(server, fixture), {
        list: ['SOFTWARE_TOKEN_MFA'], preferred: 'SOFTWARE_TOKEN_MFA',
      });
      await signOutUser(user);
    });

    test('SRP sign-in: totpRequired, a wrong code fails, sendMFACode(code, cb, SOFTWARE_TOKEN_MFA) succeeds', async () => {
      user = w.newUser();
      let m = mark();
      const challenged = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.deepEqual(challenged, {
        kind: 'totp', challengeName: 'SOFTWARE_TOKEN_MFA', challengeParameters: { USER_ID_FOR_SRP: fixture.username },
      });
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
      const session = assertTotpChallenge(since(m)[1], fixture.username);
      assert.equal(w.stored('accessToken'), null, 'no tokens before the code');

      const wrong = app.wrongCode();
      m = mark();
      await assert.rejects(sendTotp(user, wrong), isError('CodeMismatchException', 'Invalid code received for user'));
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 400'], shown(m));
      assertTotpAnswer(since(m)[0], { username: fixture.username, code: wrong, session, deviceKey: undefined });

      const code = await app.nextCode();
      m = mark();
      const { session: userSession } = await sendTotp(user, code);
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 200'], shown(m));
      assertTotpAnswer(since(m)[0], { username: fixture.username, code, session, deviceKey: undefined });
      const result = assertTokens(since(m)[0], fixture.username);
      assert.equal(userSession.getAccessToken().getJwtToken(), result.AccessToken);
      assert.equal(w.stored('accessToken'), result.AccessToken);
      await signOutUser(user);
    });

    test('USER_PASSWORD_AUTH sign-in: totpRequired; the code just used is refused (ExpiredCodeException), the next one succeeds', async () => {
      user = w.newUser();
      user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
      let m = mark();
      const challenged = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(challenged.kind, 'totp');
      assert.deepEqual(callsSince(m), ['InitiateAuth 200'], shown(m));
      assert.equal(since(m)[0].request.AuthFlow, 'USER_PASSWORD_AUTH');
      const session = assertTotpChallenge(since(m)[0], fixture.username);

      const replayed = app.lastCode;
      m = mark();
      await assert.rejects(sendTotp(user, replayed), isError('ExpiredCodeException', 'Your software token has already been used once.'));
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 400'], shown(m));

      const code = await app.nextCode(); // waits for the clock if both near steps are spent
      m = mark();
      await sendTotp(user, code);
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 200'], shown(m));
      assertTotpAnswer(since(m)[0], { username: fixture.username, code, session, deviceKey: undefined });
      assertTokens(since(m)[0], fixture.username);
      await signOutUser(user);
    });
  });

  describe('amazon-cognito-identity-js 6.3: a remembered device skips MFA (ChallengeRequiredOnNewDevice)', () => {
    let fixture;
    let w;
    let user;
    let app;
    let deviceKey;

    before(async () => {
      fixture = await mfaPool(server, {
        poolName: 'mfa-devices-identity-js',
        username: 'ivan',
        deviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: false },
      });
      app = await enrolRaw(server, fixture);
      w = identityJsClient(server, fixture);
    });

    test('a new device gets the TOTP challenge; after the code the library confirms it (Always: remembered)', async () => {
      user = w.newUser();
      const m = mark();
      const challenged = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(challenged.kind, 'totp', shown(m));
      const [, verifier] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, undefined, 'no device stored yet');
      const session = assertTotpChallenge(verifier, fixture.username);

      const code = await app.nextCode();
      const { session: userSession, userConfirmationNecessary } = await sendTotp(user, code);
      assert.equal(userConfirmationNecessary, undefined);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER → SOFTWARE_TOKEN_MFA
        'RespondToAuthChallenge 200', // SOFTWARE_TOKEN_MFA → tokens + NewDeviceMetadata
        'ConfirmDevice 200',
      ], shown(m));
      const [, , answered, confirm] = since(m);
      assertTotpAnswer(answered, { username: fixture.username, code, session, deviceKey: undefined });
      const result = assertTokens(answered, fixture.username);
      const meta = result.NewDeviceMetadata;
      assert.ok(meta?.DeviceKey && meta.DeviceGroupKey, `no NewDeviceMetadata: ${answered.text}`);
      assert.equal(decodeJwt(result.AccessToken).payload.device_key, meta.DeviceKey);
      assert.equal(confirm.request.DeviceKey, meta.DeviceKey);
      assert.equal(confirm.request.AccessToken, result.AccessToken);
      assert.deepEqual(confirm.body, { UserConfirmationNecessary: false });
      deviceKey = meta.DeviceKey;
      assert.equal(w.stored('deviceKey'), deviceKey);
      assert.equal(userSession.getAccessToken().getJwtToken(), result.AccessToken);

      const device = await server.admin.send(new AdminGetDeviceCommand({
        UserPoolId: fixture.poolId, Username: fixture.username, DeviceKey: deviceKey,
      }));
      const status = device.Device.DeviceAttributes.find((a) => a.Name === 'dev:device_remembered_status')?.Value;
      assert.equal(status, 'remembered');
      await signOutUser(user);
    });

    test('the remembered device signs in without a code: PASSWORD_VERIFIER → DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER', async () => {
      user = w.newUser();
      const m = mark();
      const signedIn = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(signedIn.kind, 'success', `totpRequired on a remembered device: ${shown(m)}`);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER with DEVICE_KEY → DEVICE_SRP_AUTH
        'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
        'RespondToAuthChallenge 200', // DEVICE_PASSWORD_VERIFIER → tokens
      ], shown(m));
      const [, verifier, srpAuth, deviceVerifier] = since(m);
      assert.equal(verifier.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      assertNoTotp(m);
      const result = assertDeviceSrp([verifier, srpAuth, deviceVerifier], { deviceKey, username: fixture.username });
      assert.equal(signedIn.session.getAccessToken().getJwtToken(), result.AccessToken);
      await signOutUser(user);
    });

    test('with ChallengeRequiredOnNewDevice false the remembered device still gets totpRequired, then device SRP after the code', async () => {
      await server.admin.send(new UpdateUserPoolCommand({
        UserPoolId: fixture.poolId,
        DeviceConfiguration: { ChallengeRequiredOnNewDevice: false, DeviceOnlyRememberedOnUserPrompt: false },
        MfaConfiguration: 'OPTIONAL',
      }));
      await setTotpPool(server, fixture.poolId);

      user = w.newUser();
      const m = mark();
      const challenged = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(challenged.kind, 'totp', shown(m));
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
      const [, verifier] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      const session = assertTotpChallenge(verifier, fixture.username);

      const code = await app.nextCode(); // may wait for the clock: the last two steps are spent
      const m2 = mark();
      const { session: userSession } = await sendTotp(user, code);
      assert.deepEqual(callsSince(m2), [
        'RespondToAuthChallenge 200', // SOFTWARE_TOKEN_MFA with DEVICE_KEY → DEVICE_SRP_AUTH
        'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
        'RespondToAuthChallenge 200', // DEVICE_PASSWORD_VERIFIER → tokens
      ], shown(m2));
      const [answered, srpAuth, deviceVerifier] = since(m2);
      assertTotpAnswer(answered, { username: fixture.username, code, session, deviceKey });
      const result = assertDeviceSrp([answered, srpAuth, deviceVerifier], {
        deviceKey, username: fixture.username, session,
      });
      assert.equal(userSession.getAccessToken().getJwtToken(), result.AccessToken);
      assert.equal(w.stored('deviceKey'), deviceKey);
      await signOutUser(user);
    });
  });

  describe('Amplify v6 (aws-amplify): rememberDevice skips MFA (ChallengeRequiredOnNewDevice, User Opt-In)', () => {
    let fixture;
    let storage;
    let app;
    let deviceKey;

    const credentials = () => ({ username: fixture.username, password: fixture.password });
    const stored = (name) => storage.getItem(`CognitoIdentityServiceProvider.${fixture.clientId}.${fixture.username}.${name}`);

    before(async () => {
      // Amplify names (and confirms) a device only with a navigator; Node 20 has none.
      Object.defineProperty(globalThis, 'navigator', {
        value: { userAgent: AMPLIFY_DEVICE_NAME },
        configurable: true,
        enumerable: true,
        writable: true,
      });
      fixture = await mfaPool(server, {
        poolName: 'mfa-devices-amplify',
        username: 'judy',
        deviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
        audit: true,
      });
      storage = configureAmplify(server, fixture);
    });

    after(signOutIfSignedIn);

    test('signIn confirms the device (not remembered); setUpTOTP, verifyTOTPSetup, updateMFAPreference({totp: ENABLED})', async () => {
      const m = mark();
      assert.deepEqual(await signIn(credentials()), DONE);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'ConfirmDevice 200'], shown(m));
      const [, verifier, confirm] = since(m);
      deviceKey = verifier.body.AuthenticationResult.NewDeviceMetadata.DeviceKey;
      assert.equal(confirm.request.DeviceKey, deviceKey);
      assert.deepEqual(confirm.body, { UserConfirmationNecessary: true });
      assert.equal(stored('deviceKey'), deviceKey);

      const { sharedSecret } = await setUpTOTP();
      app = new Authenticator(sharedSecret);
      await verifyTOTPSetup({ code: await app.currentCode() });
      await updateMFAPreference({ totp: 'ENABLED' });
      assert.deepEqual(await fetchMFAPreference(), { preferred: undefined, enabled: ['TOTP'] });
    });

    test('a confirmed but not remembered device gets CONFIRM_SIGN_IN_WITH_TOTP_CODE, then device SRP after the code', async () => {
      await signOut();
      const m = mark();
      assert.deepEqual(await signIn(credentials()), TOTP_STEP);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
      const [, verifier] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      const session = assertTotpChallenge(verifier, fixture.username);

      const code = await app.nextCode();
      const m2 = mark();
      assert.deepEqual(await confirmSignIn({ challengeResponse: code }), DONE);
      assert.deepEqual(callsSince(m2), [
        'RespondToAuthChallenge 200', // SOFTWARE_TOKEN_MFA with DEVICE_KEY → DEVICE_SRP_AUTH
        'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
        'RespondToAuthChallenge 200', // DEVICE_PASSWORD_VERIFIER → tokens
      ], shown(m2));
      const [answered, srpAuth, deviceVerifier] = since(m2);
      assertTotpAnswer(answered, { username: fixture.username, code, session, deviceKey });
      const result = assertDeviceSrp([answered, srpAuth, deviceVerifier], {
        deviceKey, username: fixture.username, session,
      });
      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.toString(), result.AccessToken);
    });

    test('rememberDevice, signOut, signIn → DONE through device SRP without a TOTP step', async () => {
      let m = mark();
      await rememberDevice();
      assert.deepEqual(callsSince(m), ['UpdateDeviceStatus 200'], shown(m));
      assert.equal(since(m)[0].request.DeviceKey, deviceKey);
      await signOut();

      m = mark();
      assert.deepEqual(await signIn(credentials()), DONE);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER with DEVICE_KEY → DEVICE_SRP_AUTH
        'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
        'RespondToAuthChallenge 200', // DEVICE_PASSWORD_VERIFIER → tokens
      ], shown(m));
      const [, verifier, srpAuth, deviceVerifier] = since(m);
      assert.equal(verifier.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      assertNoTotp(m);
      const result = assertDeviceSrp([verifier, srpAuth, deviceVerifier], { deviceKey, username: fixture.username });
      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.toString(), result.AccessToken);
      assert.equal(tokens.accessToken.payload.device_key, deviceKey);
    });

    test('sign-in events: the device SRP sign-in is listed first, under the name Amplify gave the device; the TOTP sign-in before it', async () => {
      const [latest, withCode] = await authEvents(server, fixture);
      assert.equal(latest.EventType, 'SignIn');
      assert.equal(latest.EventResponse, 'Pass');
      assert.equal(latest.EventContextData.DeviceName, AMPLIFY_DEVICE_NAME);
      assert.deepEqual(latest.ChallengeResponses, [PASSWORD_OK]);
      assert.equal(withCode.EventResponse, 'Pass');
      assert.deepEqual(withCode.ChallengeResponses, [PASSWORD_OK, { ChallengeName: 'Mfa', ChallengeResponse: 'Success' }]);
      assert.equal(withCode.EventContextData.DeviceName, AMPLIFY_DEVICE_NAME);
    });

    test('device trust expires: idle 31 days under a 30-day lifetime, the remembered device is asked the code again', async (t) => {
      await signOut();
      const moved = await thirtyOneDaysLater(server, fixture.poolId, async () => {
        const m = mark();
        try {
          assert.deepEqual(await signIn({ ...credentials(), options: { authFlowType: 'USER_PASSWORD_AUTH' } }), TOTP_STEP);
          assert.equal(since(m)[0].request.AuthParameters.DEVICE_KEY, deviceKey);
          assert.equal(await rememberedStatus(server, fixture, deviceKey), 'not_remembered');
        } finally {
          await signOut();
        }
      });
      if (!moved) t.skip('a server started elsewhere: its clock cannot be moved');
    });
  });
});


describe('SMS codes (from the outbox) and MFA_SETUP', () => {
  let server;

  before(async () => {
    server = await GatehouseServer.start();
  });

  after(async () => {
    await server?.stop();
  });

  describe('amazon-cognito-identity-js 6.3: mfaRequired, sendMFACode, setDeviceStatusRemembered, then no code', () => {
    const PHONE = '+15555550123';
    let fixture;
    let w;
    let user;
    let deviceKey;

    const smsMessages = async () =>
      server.outbox(fixture.poolId, fixture.username, 'MFA');

    before(async () => {
      fixture = await createPoolWithUser(server.admin, {
        poolName: 'mfa-sms-identity-js',
        username: 'kim',
        password: PASSWORD,
        attributes: { phone_number: PHONE },
        poolOptions: {
          DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
          ...AUDIT,
        },
      });
      await server.admin.send(new SetUserPoolMfaConfigCommand({
        UserPoolId: fixture.poolId,
        MfaConfiguration: 'OPTIONAL',
        SmsMfaConfiguration: {
          SmsAuthenticationMessage: 'Your code is {####}',
          SmsConfiguration: { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'x' },
        },
      }));
      await server.admin.send(new AdminSetUserMFAPreferenceCommand({
        UserPoolId: fixture.poolId,
        Username: fixture.username,
        SMSMfaSettings: { Enabled: true, PreferredMfa: true },
      }));
      w = identityJsClient(server, fixture);
    });

    test('SRP sign-in: mfaRequired(SMS_MFA) with the masked number; a wrong code fails, the code from the outbox signs in and the device is confirmed (User Opt-In)', async () => {
      user = w.newUser();
      const m = mark();
      const challenged = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(challenged.kind, 'sms', shown(m));
      assert.equal(challenged.challengeName, 'SMS_MFA');
      assert.deepEqual(challenged.challengeParameters, {
        CODE_DELIVERY_DELIVERY_MEDIUM: 'SMS',
        CODE_DELIVERY_DESTINATION: '+*******0123',
        USER_ID_FOR_SRP: fixture.username,
      });
      const [message] = await smsMessages();
      assert.equal(message.Destination, PHONE);
      assert.equal(message.Body, `Your code is ${message.Code}`);

      const wrong = message.Code === '000000' ? '111111' : '000000';
      await assert.rejects(sendSmsCode(user, wrong),
        isError('CodeMismatchException', 'Invalid code or auth state for the user.'));

      const m2 = mark();
      const { session, userConfirmationNecessary } = await sendSmsCode(user, message.Code);
      assert.equal(userConfirmationNecessary, true, 'User Opt-In: the library must ask the user');
      assert.deepEqual(callsSince(m2), [
        'RespondToAuthChallenge 200', // SMS_MFA → tokens + NewDeviceMetadata
        'ConfirmDevice 200',
      ], shown(m2));
      const [answered, confirm] = since(m2);
      assert.equal(answered.request.ChallengeName, 'SMS_MFA');
      assert.equal(answered.request.ChallengeResponses.SMS_MFA_CODE, message.Code);
      const result = assertTokens(answered, fixture.username);
      deviceKey = result.NewDeviceMetadata?.DeviceKey;
      assert.ok(deviceKey, answered.text);
      assert.equal(confirm.request.DeviceKey, deviceKey);
      assert.deepEqual(confirm.body, { UserConfirmationNecessary: true });
      assert.equal(session.getAccessToken().getJwtToken(), result.AccessToken);
      assert.equal(w.stored('deviceKey'), deviceKey);
    });

    test('setDeviceStatusRemembered (UpdateDeviceStatus), signOut', async () => {
      const m = mark();
      await callback(user, 'setDeviceStatusRemembered');
      assert.deepEqual(callsSince(m), ['UpdateDeviceStatus 200'], shown(m));
      assert.equal(since(m)[0].request.DeviceKey, deviceKey);
      assert.equal(since(m)[0].request.DeviceRememberedStatus, 'remembered');
      const device = await server.admin.send(new AdminGetDeviceCommand({
        UserPoolId: fixture.poolId, Username: fixture.username, DeviceKey: deviceKey,
      }));
      const status = device.Device.DeviceAttributes.find((a) => a.Name === 'dev:device_remembered_status')?.Value;
      assert.equal(status, 'remembered');
      await signOutUser(user);
    });

    test('the next sign-in needs no code: device SRP instead, and no SMS is sent', async () => {
      const before = (await smsMessages()).length;
      user = w.newUser();
      const m = mark();
      const signedIn = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
      assert.equal(signedIn.kind, 'success', `mfaRequired on a remembered device: ${shown(m)}`);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER with DEVICE_KEY → DEVICE_SRP_AUTH
        'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
        'RespondToAuthChallenge 200', // DEVICE_PASSWORD_VERIFIER → tokens
      ], shown(m));
      const [, verifier, srpAuth, deviceVerifier] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      const result = assertDeviceSrp([verifier, srpAuth, deviceVerifier], { deviceKey, username: fixture.username });
      assert.equal(signedIn.session.getAccessToken().getJwtToken(), result.AccessToken);
      assert.equal((await smsMessages()).length, before, 'no code was sent');
      await signOutUser(user);
    });

    test('sign-in events: the device SRP sign-in under the device\'s name; the SMS sign-in with its wrong code', async () => {
      const [latest, withCode] = await authEvents(server, fixture);
      const device = await server.admin.send(new AdminGetDeviceCommand({
        UserPoolId: fixture.poolId, Username: fixture.username, DeviceKey: deviceKey,
      }));
      const name = device.Device.DeviceAttributes.find((a) => a.Name === 'device_name')?.Value;
      assert.ok(name);
      assert.equal(latest.EventResponse, 'Pass');
      assert.equal(latest.EventContextData.DeviceName, name);
      assert.deepEqual(latest.ChallengeResponses, [PASSWORD_OK]);
      assert.equal(withCode.EventResponse, 'Pass');
      assert.deepEqual(withCode.ChallengeResponses, [
        PASSWORD_OK,
        { ChallengeName: 'Mfa', ChallengeResponse: 'Failure' },
        { ChallengeName: 'Mfa', ChallengeResponse: 'Success' },
      ]);
    });

    test('device trust expires: idle 31 days under a 30-day lifetime, the remembered device is asked the code again', async (t) => {
      const moved = await thirtyOneDaysLater(server, fixture.poolId, async () => {
        user = w.newUser();
        user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
        const m = mark();
        const challenged = await authenticate(user, fixture.username, PASSWORD, { mfa: true });
        assert.equal(challenged.kind, 'sms', shown(m));
        assert.equal(since(m)[0].request.AuthParameters.DEVICE_KEY, deviceKey);
        assert.equal(await rememberedStatus(server, fixture, deviceKey), 'not_remembered');
      });
      if (!moved) t.skip('a server started elsewhere: its clock cannot be moved');
    });
  });

  describe('Amplify v6 (aws-amplify): MFA_SETUP in an ON pool (authenticator app, then email)', () => {
    /**
     * A pool with MFA ON offering authenticator apps (and email MFA with `email`), an app client
     * and a user without any factor; Amplify is pointed at it.
     */
    async function onPool(poolName, username, { email }) {
      const fixture = await createPoolWithUser(server.admin, {
        poolName, username, password: PASSWORD, attributes: {},
      });
      await server.admin.send(new SetUserPoolMfaConfigCommand({
        UserPoolId: fixture.poolId,
        MfaConfiguration: 'ON',
        SoftwareTokenMfaConfiguration: { Enabled: true },
        ...(email ? { EmailMfaConfiguration: { Message: 'Code {####}', Subject: 'Sign-in code' } } : {}),
      }));
      configureAmplify(server, fixture);
      return fixture;
    }

    test('CONTINUE_SIGN_IN_WITH_TOTP_SETUP: Amplify associates with the Session; confirmSignIn(code) verifies and answers MFA_SETUP; the next signIn asks for the code', async () => {
      const fixture = await onPool('mfa-setup-amplify', 'liam', { email: false });
      let m = mark();
      const step = await signIn({ username: fixture.username, password: fixture.password });
      assert.equal(step.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP', JSON.stringify(step));
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER → MFA_SETUP
        'AssociateSoftwareToken 200',
      ], shown(m));
      const [, verifier, associate] = since(m);
      assert.equal(verifier.body.ChallengeName, 'MFA_SETUP', verifier.text);
      assert.equal(verifier.body.ChallengeParameters.MFAS_CAN_SETUP, '["SOFTWARE_TOKEN_MFA"]');
      assert.equal(associate.request.Session, verifier.body.Session);
      assert.equal(associate.request.AccessToken, undefined);
      const secret = step.nextStep.totpSetupDetails.sharedSecret;
      assert.equal(secret, associate.body.SecretCode);
      const app = new Authenticator(secret);

      const code = await app.currentCode();
      m = mark();
      assert.deepEqual(await confirmSignIn({ challengeResponse: code }), DONE);
      assert.deepEqual(callsSince(m), ['VerifySoftwareToken 200', 'RespondToAuthChallenge 200'], shown(m));
      const [verify, answer] = since(m);
      assert.equal(verify.request.Session, associate.body.Session);
      assert.equal(verify.request.UserCode, code);
      assert.equal(answer.request.ChallengeName, 'MFA_SETUP');
      assert.equal(answer.request.Session, verify.body.Session);
      assertTokens(answer, fixture.username);
      assert.deepEqual(await adminMfaSettings(server, fixture), {
        list: ['SOFTWARE_TOKEN_MFA'], preferred: 'SOFTWARE_TOKEN_MFA',
      });

      await signOut();
      assert.deepEqual(await signIn({ username: fixture.username, password: fixture.password }), TOTP_STEP);
      assert.deepEqual(await confirmSignIn({ challengeResponse: await app.nextCode() }), DONE);
      await signOut();
    });

    test('CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION → EMAIL → the address → CONFIRM_SIGN_IN_WITH_EMAIL_CODE with the code from the outbox', async () => {
      const fixture = await onPool('mfa-setup-email-amplify', 'mia', { email: true });
      const step = await signIn({ username: fixture.username, password: fixture.password });
      assert.equal(step.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION', JSON.stringify(step));
      assert.deepEqual([...step.nextStep.allowedMFATypes].sort(), ['EMAIL', 'TOTP']);
      const chose = await confirmSignIn({ challengeResponse: 'EMAIL' });
      assert.equal(chose.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP', JSON.stringify(chose));

      const m = mark();
      const sent = await confirmSignIn({ challengeResponse: 'mia@example.org' });
      assert.equal(sent.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE', JSON.stringify(sent));
      assert.equal(sent.nextStep.codeDeliveryDetails?.destination, 'm***@e***');
      assert.deepEqual(callsSince(m), ['RespondToAuthChallenge 200'], shown(m));
      assert.equal(since(m)[0].request.ChallengeName, 'MFA_SETUP');
      assert.equal(since(m)[0].request.ChallengeResponses.EMAIL, 'mia@example.org');
      const [message] = await server.outbox(fixture.poolId, fixture.username, 'MFA');
      assert.equal(message.Destination, 'mia@example.org');

      assert.deepEqual(await confirmSignIn({ challengeResponse: message.Code }), DONE);
      assert.deepEqual(await adminMfaSettings(server, fixture), { list: ['EMAIL_OTP'], preferred: 'EMAIL_OTP' });
      await signOut();
    });
  });
});
