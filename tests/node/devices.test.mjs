// Remembered devices (device tracking) with the real, unmodified JavaScript clients against a
// Gatehouse server process: amazon-cognito-identity-js on a User Opt-In and an Always pool, and
// Amplify v6 on a User Opt-In pool. The contract is docs/devices.md; the wire is
// docs/protocol.md §9–11.
//
// What went over the wire: both clients call the global fetch, which this file observes (never
// alters). Only requests that carry X-Amz-User-Agent (both clients set it, the test's own raw
// calls through server.call do not) are recorded, so `callsSince(mark)` is exactly what the client
// sent since `mark`.
//
// Device names: amazon-cognito-identity-js fixes its DeviceName when it is loaded:
// navigator.userAgent if there is a navigator, else "nodejs" (Node 20 has no navigator).
// Amplify asks `navigator` at sign-in (getDeviceName); without one its ConfirmDevice call throws
// inside Amplify, which swallows the error and stores no device. The Amplify suite therefore
// installs a minimal navigator (userAgent only) before it signs in; identity-js, loaded earlier,
// is not affected by it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  fetchAuthSession,
  fetchDevices,
  forgetDevice,
  rememberDevice,
  signIn,
  signOut,
} from 'aws-amplify/auth';
import {
  AdminForgetDeviceCommand,
  AdminGetDeviceCommand,
  AdminListDevicesCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  GatehouseServer,
  assertAwsError,
  assertDeviceSrp,
  assertOk,
  authenticate,
  callback,
  configureAmplify,
  createPoolWithUser,
  decodeJwt,
  identityJsClient,
  isError,
  nodeCall,
  recordClientExchanges,
  REGION,
  signOutIfSignedIn,
  signOutUser,
  sleep,
} from './server.mjs';

// The DeviceName amazon-cognito-identity-js sends, decided when it was loaded (by server.mjs, above).
const IDENTITY_JS_DEVICE_NAME = typeof navigator === 'undefined' ? 'nodejs' : navigator.userAgent;
// The user agent of the navigator the Amplify suite installs; Amplify sends it as DeviceName.
const AMPLIFY_DEVICE_NAME = 'Mozilla/5.0 (X11; Linux x86_64) gatehouse-node-devices-test';

const OPT_IN = { ChallengeRequiredOnNewDevice: false, DeviceOnlyRememberedOnUserPrompt: true };
const ALWAYS = { ChallengeRequiredOnNewDevice: false, DeviceOnlyRememberedOnUserPrompt: false };

const DEVICE_KEY_PATTERN = new RegExp(
  `^${REGION}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
);
// A well-formed key that no device has.
const OTHER_DEVICE_KEY = `${REGION}_00000000-0000-4000-8000-000000000000`;
const DONE = { isSignedIn: true, nextStep: { signInStep: 'DONE' } };

// ---------------------------------------------------------------------------------------------
// Observing the clients' requests.

const { mark, since, callsSince, shown } = recordClientExchanges();

// ---------------------------------------------------------------------------------------------
// Assertions shared by the suites.

/**
 * `answered` is the client's request that ended in tokens for an unknown device (the
 * PASSWORD_VERIFIER answer, or USER_PASSWORD_AUTH's InitiateAuth); `confirm` is the ConfirmDevice
 * the client sent right after. Returns the NewDeviceMetadata.
 */
function assertNewDevice(answered, confirm, { name, userConfirmationNecessary }) {
  assert.equal(answered.status, 200, answered.text);
  const result = answered.body.AuthenticationResult;
  assert.ok(result?.AccessToken, `no tokens: ${answered.text}`);
  const meta = result.NewDeviceMetadata;
  assert.ok(meta, `tracking is on, but no NewDeviceMetadata: ${answered.text}`);
  assert.match(meta.DeviceKey, DEVICE_KEY_PATTERN);
  assert.equal(typeof meta.DeviceGroupKey, 'string');
  assert.ok(meta.DeviceGroupKey.length > 0, 'empty DeviceGroupKey');
  assert.equal(decodeJwt(result.AccessToken).payload.device_key, meta.DeviceKey,
    'the access token names the issued device');
  assert.equal(decodeJwt(result.IdToken).payload.device_key, undefined, 'ID tokens carry no device_key');

  assert.equal(confirm.operation, 'ConfirmDevice');
  assert.equal(confirm.request.DeviceKey, meta.DeviceKey);
  assert.equal(confirm.request.AccessToken, result.AccessToken);
  assert.equal(confirm.request.DeviceName, name);
  assert.ok(confirm.request.DeviceSecretVerifierConfig?.Salt, 'client sent no salt');
  assert.ok(confirm.request.DeviceSecretVerifierConfig?.PasswordVerifier, 'client sent no verifier');
  assert.deepEqual(assertOk(confirm), { UserConfirmationNecessary: userConfirmationNecessary });
  return meta;
}

const attributesOf = (device) =>
  Object.fromEntries((device.DeviceAttributes ?? []).map(({ Name, Value }) => [Name, Value]));
/** Epoch milliseconds of a device date: a Date (admin SDK) or epoch seconds (raw JSON). */
const epochMs = (d) => (d instanceof Date ? d.getTime() : d * 1000);

function assertRecent(date, what) {
  assert.ok(date !== undefined && date !== null, `no ${what}`);
  const ms = epochMs(date);
  assert.ok(Number.isFinite(ms), `${what} is not a date: ${date}`);
  assert.ok(Math.abs(ms - Date.now()) < 10 * 60_000, `${what} ${new Date(ms).toISOString()} is not recent`);
}

/** A DeviceType as docs/devices.md describes it (user or admin operation). */
function assertDevice(device, { key, name, remembered, username, poolId }) {
  assert.equal(device.DeviceKey, key);
  const attrs = attributesOf(device);
  const shownAttrs = JSON.stringify(attrs);
  assert.equal(attrs.device_status, 'valid', shownAttrs);
  assert.equal(attrs.device_name, name, shownAttrs);
  assert.equal(attrs['dev:device_remembered_status'], remembered ? 'remembered' : 'not_remembered', shownAttrs);
  assert.equal(attrs.last_ip_used, '127.0.0.1', shownAttrs);
  assert.equal(attrs['dev:device_owner'], `${username}.${poolId}`, shownAttrs);
  assertRecent(device.DeviceCreateDate, 'DeviceCreateDate');
  assertRecent(device.DeviceLastModifiedDate, 'DeviceLastModifiedDate');
}

/** DeviceLastAuthenticatedDate moved with a device sign-in that started at `startedMs`. */
function assertAuthenticatedSince(beforeDate, afterDate, startedMs) {
  assert.ok(afterDate !== undefined && afterDate !== null, 'no DeviceLastAuthenticatedDate after device SRP');
  const afterMs = epochMs(afterDate);
  if (beforeDate !== undefined && beforeDate !== null) {
    assert.ok(afterMs > epochMs(beforeDate),
      `DeviceLastAuthenticatedDate did not move: ${new Date(epochMs(beforeDate)).toISOString()} → ${new Date(afterMs).toISOString()}`);
  }
  assert.ok(afterMs >= Math.floor(startedMs / 1000) * 1000,
    `DeviceLastAuthenticatedDate ${new Date(afterMs).toISOString()} before the sign-in began`);
}

// ---------------------------------------------------------------------------------------------
// Set-up.

/** Pool, app client and user on the test server, and an identity-js world over one storage. */
async function identityJsWorld(server, { poolName, username, deviceConfiguration }) {
  const fixture = await createPoolWithUser(server.admin, {
    poolName,
    username,
    password: 'Correct-Horse-1',
    attributes: { email: `${username}@example.com`, email_verified: 'true' },
    poolOptions: deviceConfiguration ? { DeviceConfiguration: deviceConfiguration } : {},
  });
  return {
    fixture,
    ...identityJsClient(server, fixture),
    adminGetDevice: (key) => server.admin.send(new AdminGetDeviceCommand({
      UserPoolId: fixture.poolId, Username: fixture.username, DeviceKey: key,
    })),
    adminListDevices: () => server.admin.send(new AdminListDevicesCommand({
      UserPoolId: fixture.poolId, Username: fixture.username,
    })),
    adminForgetDevice: (key) => server.admin.send(new AdminForgetDeviceCommand({
      UserPoolId: fixture.poolId, Username: fixture.username, DeviceKey: key,
    })),
  };
}

// ---------------------------------------------------------------------------------------------

describe('remembered devices', () => {
  let server;

  before(async () => {
    server = await GatehouseServer.start();
  });

  after(async () => {
    await server?.stop();
  });

  describe('amazon-cognito-identity-js 6.3, pool without device tracking', () => {
    let w;

    before(async () => {
      w = await identityJsWorld(server, { poolName: 'devices-off', username: 'frank' });
    });

    test('sign-in issues no device key, and the device operations are refused', async () => {
      const user = w.newUser();
      const m = mark();
      const { session, userConfirmationNecessary } = await authenticate(user, 'frank', w.fixture.password);
      assert.equal(userConfirmationNecessary, undefined);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
      const result = since(m)[1].body.AuthenticationResult;
      assert.equal(result.NewDeviceMetadata, undefined);
      assert.equal(decodeJwt(session.getAccessToken().getJwtToken()).payload.device_key, undefined);
      assert.equal(w.stored('deviceKey'), null);

      const refused = isError('InvalidUserPoolConfigurationException', 'Device tracking is not enabled for this user pool.');
      await assert.rejects(callback(user, 'listDevices', 60, null), refused);
      await assert.rejects(callback(user, 'forgetSpecificDevice', OTHER_DEVICE_KEY), refused);
    });
  });

  describe('amazon-cognito-identity-js 6.3, User Opt-In pool (DeviceOnlyRememberedOnUserPrompt)', () => {
    let w;
    let user; // the CognitoUser currently signed in
    let deviceKey;
    let groupKey;

    before(async () => {
      w = await identityJsWorld(server, {
        poolName: 'devices-opt-in', username: 'carol', deviceConfiguration: OPT_IN,
      });
    });

    const deviceIs = (device, remembered, key = deviceKey) => assertDevice(device, {
      key, name: IDENTITY_JS_DEVICE_NAME, remembered, username: 'carol', poolId: w.fixture.poolId,
    });

    test('SRP sign-in: the library confirms the new device itself; onSuccess says userConfirmationNecessary', async () => {
      user = w.newUser();
      const m = mark();
      const { session, userConfirmationNecessary } = await authenticate(user, 'carol', w.fixture.password);
      assert.equal(userConfirmationNecessary, true);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'ConfirmDevice 200'], shown(m));
      const [, verifier, confirm] = since(m);
      assert.equal(verifier.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, undefined, 'no device stored yet');
      const meta = assertNewDevice(verifier, confirm, {
        name: IDENTITY_JS_DEVICE_NAME, userConfirmationNecessary: true,
      });
      deviceKey = meta.DeviceKey;
      groupKey = meta.DeviceGroupKey;
      assert.equal(decodeJwt(session.getAccessToken().getJwtToken()).payload.device_key, deviceKey);

      // The client keeps the device only because ConfirmDevice succeeded.
      assert.equal(w.stored('deviceKey'), deviceKey);
      assert.equal(w.stored('deviceGroupKey'), groupKey);
      assert.ok(w.stored('randomPasswordKey'), 'no device secret stored');

      // Confirmed but not remembered: the admin sees it, the user's own list does not.
      deviceIs((await w.adminGetDevice(deviceKey)).Device, false);
      const listed = await callback(user, 'listDevices', 60, null);
      assert.deepEqual(listed.Devices, []);
      await assert.rejects(callback(user, 'getDevice'), isError('ResourceNotFoundException'));
    });

    test('setDeviceStatusRemembered (UpdateDeviceStatus) remembers it: listDevices and getDevice show it', async () => {
      const accessToken = user.getSignInUserSession().getAccessToken().getJwtToken();
      const m = mark();
      assert.equal(await callback(user, 'setDeviceStatusRemembered'), 'SUCCESS');
      assert.deepEqual(callsSince(m), ['UpdateDeviceStatus 200'], shown(m));
      assert.deepEqual(since(m)[0].request, {
        AccessToken: accessToken, DeviceKey: deviceKey, DeviceRememberedStatus: 'remembered',
      });
      assert.deepEqual(since(m)[0].body, {});

      const listed = await callback(user, 'listDevices', 60, null);
      assert.equal(listed.Devices.length, 1, JSON.stringify(listed));
      deviceIs(listed.Devices[0], true);
      assert.equal(listed.PaginationToken, undefined);
      const got = await callback(user, 'getDevice');
      deviceIs(got.Device, true);
      deviceIs((await w.adminGetDevice(deviceKey)).Device, true);
    });

    test('after signOut, the next sign-in proves the device with device SRP and gets no new key', async () => {
      const before = (await w.adminGetDevice(deviceKey)).Device.DeviceLastAuthenticatedDate;
      await signOutUser(user);
      assert.equal(w.stored('accessToken'), null, 'signOut left the tokens');
      assert.equal(w.stored('deviceKey'), deviceKey, 'signOut keeps the device');
      await sleep(1100); // so that DeviceLastAuthenticatedDate visibly moves

      const started = Date.now();
      user = w.newUser();
      const m = mark();
      const { session, userConfirmationNecessary } = await authenticate(user, 'carol', w.fixture.password);
      assert.equal(userConfirmationNecessary, undefined);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER with DEVICE_KEY → DEVICE_SRP_AUTH
        'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
        'RespondToAuthChallenge 200', // DEVICE_PASSWORD_VERIFIER → tokens
      ], shown(m));
      const [, verifier, srpAuth, deviceVerifier] = since(m);
      assert.equal(verifier.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      const result = assertDeviceSrp([verifier, srpAuth, deviceVerifier], { deviceKey, username: 'carol' });
      assert.equal(session.getAccessToken().getJwtToken(), result.AccessToken);
      assert.equal(w.stored('deviceKey'), deviceKey);
      assert.equal(w.stored('deviceGroupKey'), groupKey);

      const device = (await w.adminGetDevice(deviceKey)).Device;
      assertAuthenticatedSince(before, device.DeviceLastAuthenticatedDate, started);
      deviceIs(device, true);
      const all = await w.adminListDevices();
      assert.deepEqual(all.Devices.map((d) => d.DeviceKey), [deviceKey]);
    });

    test('refreshSession sends the device key and keeps the device; the refresh token is bound to it', async () => {
      const refreshToken = user.getSignInUserSession().getRefreshToken();
      const m = mark();
      const refreshed = await nodeCall(user, 'refreshSession', refreshToken);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200'], shown(m));
      const [refresh] = since(m);
      assert.equal(refresh.request.AuthFlow, 'REFRESH_TOKEN_AUTH');
      assert.equal(refresh.request.AuthParameters.DEVICE_KEY, deviceKey);
      assert.equal(refresh.body.AuthenticationResult.NewDeviceMetadata, undefined, 'refreshes never hand out keys');
      assert.equal(decodeJwt(refreshed.getAccessToken().getJwtToken()).payload.device_key, deviceKey);

      // Another device's key is refused; no key at all is accepted (pycognito sends none).
      const raw = (authParameters) => server.call('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: w.fixture.clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken.getToken(), ...authParameters },
      });
      assertAwsError(await raw({ DEVICE_KEY: OTHER_DEVICE_KEY }), 'NotAuthorizedException', 'Invalid Refresh Token');
      const noKey = assertOk(await raw({}));
      assert.equal(decodeJwt(noKey.AuthenticationResult.AccessToken).payload.device_key, deviceKey);
    });

    test('listDevices shows exactly that device, getDevice finds it, forgetDevice forgets it; listDevices still works after it', async () => {
      const listed = await callback(user, 'listDevices', 60, null);
      assert.equal(listed.Devices.length, 1, JSON.stringify(listed));
      deviceIs(listed.Devices[0], true);
      assert.ok(listed.Devices[0].DeviceLastAuthenticatedDate, 'no DeviceLastAuthenticatedDate after device SRP');
      const got = await callback(user, 'getDevice');
      assert.equal(got.Device.DeviceKey, deviceKey);

      const accessToken = user.getSignInUserSession().getAccessToken().getJwtToken();
      const refreshToken = user.getSignInUserSession().getRefreshToken().getToken();
      const m = mark();
      assert.equal(await callback(user, 'forgetDevice'), 'SUCCESS');
      assert.deepEqual(callsSince(m), ['ForgetDevice 200'], shown(m));
      assert.deepEqual(since(m)[0].request, { AccessToken: accessToken, DeviceKey: deviceKey });
      assert.equal(w.stored('deviceKey'), null, 'the client kept the forgotten key');
      assert.equal(w.stored('randomPasswordKey'), null);
      assert.equal(w.stored('deviceGroupKey'), null);

      // Gone for the administrator as well.
      await assert.rejects(w.adminGetDevice(deviceKey), { name: 'ResourceNotFoundException' });
      assert.deepEqual((await w.adminListDevices()).Devices, []);
      // The sign-in was bound to the device: its refresh token is revoked, but the access
      // token that made the call keeps working, so the app can list what is left.
      const after = await callback(user, 'listDevices', 60, null);
      assert.deepEqual(after.Devices, [], JSON.stringify(after));
      assert.equal((await server.call('GetUser', { AccessToken: accessToken })).status, 200);
      assertAwsError(
        await server.call('InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: w.fixture.clientId,
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
        'NotAuthorizedException',
        'Refresh Token has been revoked',
      );
    });

    test('the next sign-in gets a new device key', async () => {
      const forgotten = deviceKey;
      user.signOut(); // local only: the tokens are revoked already
      user = w.newUser();
      const m = mark();
      const { userConfirmationNecessary } = await authenticate(user, 'carol', w.fixture.password);
      assert.equal(userConfirmationNecessary, true);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'ConfirmDevice 200'], shown(m));
      const [, verifier, confirm] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, undefined);
      const meta = assertNewDevice(verifier, confirm, {
        name: IDENTITY_JS_DEVICE_NAME, userConfirmationNecessary: true,
      });
      assert.notEqual(meta.DeviceKey, forgotten);
      deviceKey = meta.DeviceKey;
      assert.equal(w.stored('deviceKey'), deviceKey);
      const all = await w.adminListDevices();
      assert.equal(all.Devices.length, 1, JSON.stringify(all.Devices));
      deviceIs(all.Devices[0], false);
    });
  });

  describe('amazon-cognito-identity-js 6.3, Always pool', () => {
    let w;
    let user;
    let deviceKey;

    before(async () => {
      w = await identityJsWorld(server, {
        poolName: 'devices-always', username: 'dave', deviceConfiguration: ALWAYS,
      });
    });

    const deviceIs = (device, key = deviceKey) => assertDevice(device, {
      key, name: IDENTITY_JS_DEVICE_NAME, remembered: true, username: 'dave', poolId: w.fixture.poolId,
    });

    test('SRP sign-in: ConfirmDevice answers UserConfirmationNecessary false; listDevices shows the device at once', async () => {
      user = w.newUser();
      const m = mark();
      const { userConfirmationNecessary } = await authenticate(user, 'dave', w.fixture.password);
      assert.equal(userConfirmationNecessary, undefined, 'onSuccess got a confirmation flag');
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'ConfirmDevice 200'], shown(m));
      const [, verifier, confirm] = since(m);
      const meta = assertNewDevice(verifier, confirm, {
        name: IDENTITY_JS_DEVICE_NAME, userConfirmationNecessary: false,
      });
      deviceKey = meta.DeviceKey;
      assert.equal(w.stored('deviceKey'), deviceKey);

      const listed = await callback(user, 'listDevices', 60, null);
      assert.equal(listed.Devices.length, 1, JSON.stringify(listed));
      deviceIs(listed.Devices[0]);
      deviceIs((await callback(user, 'getDevice')).Device);
    });

    test('the next SRP sign-in proves the device with device SRP', async () => {
      await signOutUser(user);
      user = w.newUser();
      const m = mark();
      await authenticate(user, 'dave', w.fixture.password);
      assert.equal(callsSince(m).length, 4, shown(m));
      const [, verifier, srpAuth, deviceVerifier] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, deviceKey);
      assertDeviceSrp([verifier, srpAuth, deviceVerifier], { deviceKey, username: 'dave' });
    });

    test('USER_PASSWORD_AUTH presents DEVICE_KEY in InitiateAuth and proves the device with device SRP', async () => {
      await signOutUser(user);
      user = w.newUser();
      user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
      const m = mark();
      const { session } = await authenticate(user, 'dave', w.fixture.password);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'RespondToAuthChallenge 200'], shown(m));
      const [initiate, srpAuth, deviceVerifier] = since(m);
      assert.equal(initiate.request.AuthFlow, 'USER_PASSWORD_AUTH');
      assert.equal(initiate.request.AuthParameters.DEVICE_KEY, deviceKey);
      const result = assertDeviceSrp([initiate, srpAuth, deviceVerifier], { deviceKey, username: 'dave' });
      assert.equal(session.getAccessToken().getJwtToken(), result.AccessToken);
    });

    test('a wrong device secret fails DEVICE_PASSWORD_VERIFIER with NotAuthorizedException', async () => {
      // The device proof is really checked: sign in with the stored device secret replaced.
      const secretKey = w.storageKey('randomPasswordKey');
      const secret = w.storage.getItem(secretKey);
      w.storage.setItem(secretKey, Buffer.alloc(40, 7).toString('base64'));
      try {
        const m = mark();
        await assert.rejects(
          authenticate(w.newUser(), 'dave', w.fixture.password),
          isError('NotAuthorizedException', 'Incorrect username or password.'),
        );
        assert.deepEqual(callsSince(m), [
          'InitiateAuth 200',
          'RespondToAuthChallenge 200', // PASSWORD_VERIFIER → DEVICE_SRP_AUTH
          'RespondToAuthChallenge 200', // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER
          'RespondToAuthChallenge 400', // the wrong proof
        ], shown(m));
        assert.equal(since(m)[3].request.ChallengeName, 'DEVICE_PASSWORD_VERIFIER');
        assert.equal(since(m)[3].request.ChallengeResponses.DEVICE_KEY, deviceKey);
      } finally {
        w.storage.setItem(secretKey, secret);
      }
      deviceIs((await w.adminGetDevice(deviceKey)).Device);
    });

    test('globalSignOut leaves the device remembered: the next sign-in still passes device SRP', async () => {
      assert.equal(await callback(user, 'globalSignOut'), 'SUCCESS');
      assert.equal(w.stored('deviceKey'), deviceKey);
      deviceIs((await w.adminGetDevice(deviceKey)).Device);
      user = w.newUser();
      const m = mark();
      await authenticate(user, 'dave', w.fixture.password);
      assert.equal(callsSince(m).length, 4, shown(m));
      assertDeviceSrp(since(m).slice(1), { deviceKey, username: 'dave' });
    });

    test('stale key (SRP): after AdminForgetDevice the library retries PASSWORD_VERIFIER without it and gets a new key', async () => {
      const stale = deviceKey;
      await signOutUser(user); // first: forgetting the device revokes this session's tokens
      await w.adminForgetDevice(stale);
      assert.equal(w.stored('deviceKey'), stale, 'the client does not know yet');

      user = w.newUser();
      const m = mark();
      const { session } = await authenticate(user, 'dave', w.fixture.password);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 400', // PASSWORD_VERIFIER with the stale key
        'RespondToAuthChallenge 200', // the same answer again, DEVICE_KEY null
        'ConfirmDevice 200',
      ], shown(m));
      const [, refused, retried, confirm] = since(m);
      assert.equal(refused.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(refused.request.ChallengeResponses.DEVICE_KEY, stale);
      assertAwsError(refused, 'ResourceNotFoundException', 'Device does not exist.');
      // The library resends the very same answer (Session, SECRET_BLOCK, signature) with a null key.
      assert.equal(retried.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(retried.request.ChallengeResponses.DEVICE_KEY, null);
      assert.equal(retried.request.Session, refused.request.Session);
      assert.equal(retried.request.ChallengeResponses.PASSWORD_CLAIM_SIGNATURE,
        refused.request.ChallengeResponses.PASSWORD_CLAIM_SIGNATURE);
      const meta = assertNewDevice(retried, confirm, {
        name: IDENTITY_JS_DEVICE_NAME, userConfirmationNecessary: false,
      });
      assert.notEqual(meta.DeviceKey, stale);
      deviceKey = meta.DeviceKey;
      assert.equal(w.stored('deviceKey'), deviceKey);
      assert.equal(decodeJwt(session.getAccessToken().getJwtToken()).payload.device_key, deviceKey);
      const all = await w.adminListDevices();
      assert.deepEqual(all.Devices.map((d) => d.DeviceKey), [deviceKey]);
    });

    test('stale key (USER_PASSWORD_AUTH): the forgotten key is ignored and a new one issued', async () => {
      const stale = deviceKey;
      await signOutUser(user);
      await w.adminForgetDevice(stale);

      user = w.newUser();
      user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
      const m = mark();
      await authenticate(user, 'dave', w.fixture.password);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'ConfirmDevice 200'], shown(m));
      const [initiate, confirm] = since(m);
      assert.equal(initiate.request.AuthParameters.DEVICE_KEY, stale);
      const meta = assertNewDevice(initiate, confirm, {
        name: IDENTITY_JS_DEVICE_NAME, userConfirmationNecessary: false,
      });
      assert.notEqual(meta.DeviceKey, stale);
      deviceKey = meta.DeviceKey;
      assert.equal(w.stored('deviceKey'), deviceKey);
      const all = await w.adminListDevices();
      assert.deepEqual(all.Devices.map((d) => d.DeviceKey), [deviceKey]);
      await signOutUser(user);
    });
  });

  describe('Amplify v6 (aws-amplify), User Opt-In pool', () => {
    let fixture;
    let storage;
    let prefix;
    let deviceKey;

    const stored = (name) => storage.getItem(`${prefix}.${fixture.username}.${name}`);
    const admin = (Command, extra = {}) => server.admin.send(new Command({
      UserPoolId: fixture.poolId, Username: fixture.username, ...extra,
    }));
    const adminGetDevice = (key) => admin(AdminGetDeviceCommand, { DeviceKey: key });
    const adminDeviceKeys = async () => (await admin(AdminListDevicesCommand)).Devices.map((d) => d.DeviceKey);
    const credentials = () => ({ username: fixture.username, password: fixture.password });

    before(async () => {
      // Amplify names the device from navigator (getDeviceName); Node 20 has none.
      Object.defineProperty(globalThis, 'navigator', {
        value: { userAgent: AMPLIFY_DEVICE_NAME },
        configurable: true,
        enumerable: true,
        writable: true,
      });
      fixture = await createPoolWithUser(server.admin, {
        poolName: 'devices-amplify',
        username: 'erin',
        password: 'Correct-Horse-1',
        attributes: { email: 'erin@example.com', email_verified: 'true' },
        poolOptions: { DeviceConfiguration: OPT_IN },
      });
      prefix = `CognitoIdentityServiceProvider.${fixture.clientId}`;
      storage = configureAmplify(server, fixture);
    });

    after(signOutIfSignedIn);

    test('signIn (SRP) confirms the new device under the navigator name; Opt-In keeps it unlisted', async () => {
      const m = mark();
      assert.deepEqual(await signIn(credentials()), DONE);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'ConfirmDevice 200'], shown(m));
      const [, verifier, confirm] = since(m);
      assert.equal(verifier.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, undefined);
      const meta = assertNewDevice(verifier, confirm, {
        name: AMPLIFY_DEVICE_NAME, userConfirmationNecessary: true,
      });
      deviceKey = meta.DeviceKey;
      assert.equal(stored('deviceKey'), deviceKey, `keys: ${storage.keys()}`);
      assert.equal(stored('deviceGroupKey'), meta.DeviceGroupKey);
      assert.ok(stored('randomPasswordKey'), 'no device secret stored');
      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.payload.device_key, deviceKey);

      assert.deepEqual(await fetchDevices(), [], 'a not-remembered device is listed');
      assertDevice((await adminGetDevice(deviceKey)).Device, {
        key: deviceKey, name: AMPLIFY_DEVICE_NAME, remembered: false, username: 'erin', poolId: fixture.poolId,
      });
    });

    test('rememberDevice (UpdateDeviceStatus), then fetchDevices lists it with its name', async () => {
      const { tokens } = await fetchAuthSession();
      const m = mark();
      await rememberDevice();
      assert.deepEqual(callsSince(m), ['UpdateDeviceStatus 200'], shown(m));
      assert.deepEqual(since(m)[0].request, {
        AccessToken: tokens.accessToken.toString(), DeviceKey: deviceKey, DeviceRememberedStatus: 'remembered',
      });

      const m2 = mark();
      const devices = await fetchDevices();
      assert.deepEqual(callsSince(m2), ['ListDevices 200'], shown(m2));
      assert.equal(since(m2)[0].request.Limit, 60);
      assert.equal(devices.length, 1, JSON.stringify(devices));
      const [device] = devices;
      assert.equal(device.id, deviceKey);
      assert.equal(device.name, AMPLIFY_DEVICE_NAME);
      assert.equal(device.attributes.device_name, AMPLIFY_DEVICE_NAME);
      assert.equal(device.attributes.device_status, 'valid');
      assert.equal(device.attributes['dev:device_remembered_status'], 'remembered');
      assertRecent(device.createDate, 'createDate');
      assertRecent(device.lastModifiedDate, 'lastModifiedDate');
    });

    test('after signOut, signIn (SRP) proves the remembered device with device SRP; no new key', async () => {
      const before = (await adminGetDevice(deviceKey)).Device.DeviceLastAuthenticatedDate;
      await signOut();
      assert.equal(stored('accessToken'), null, 'signOut left the tokens');
      assert.equal(stored('deviceKey'), deviceKey, 'signOut keeps the device metadata');
      await sleep(1100); // so that DeviceLastAuthenticatedDate visibly moves

      const started = Date.now();
      const m = mark();
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
      const result = assertDeviceSrp([verifier, srpAuth, deviceVerifier], { deviceKey, username: 'erin' });

      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.toString(), result.AccessToken);
      assert.equal(tokens.accessToken.payload.device_key, deviceKey);
      assert.equal(stored('deviceKey'), deviceKey);
      assertAuthenticatedSince(before, (await adminGetDevice(deviceKey)).Device.DeviceLastAuthenticatedDate, started);
      assert.deepEqual(await adminDeviceKeys(), [deviceKey]);
      const [listed] = await fetchDevices();
      assert.equal(listed.id, deviceKey);
      assertRecent(listed.lastAuthenticatedDate, 'lastAuthenticatedDate');
    });

    test('fetchAuthSession({forceRefresh: true}) refreshes with the device key; the refresh token is bound to the device', async () => {
      const previous = (await fetchAuthSession()).tokens;
      const refreshToken = stored('refreshToken');
      const m = mark();
      const { tokens } = await fetchAuthSession({ forceRefresh: true });
      assert.deepEqual(callsSince(m), ['GetTokensFromRefreshToken 200'], shown(m));
      const [refresh] = since(m);
      assert.equal(refresh.request.RefreshToken, refreshToken);
      assert.equal(refresh.request.DeviceKey, deviceKey);
      assert.equal(refresh.body.AuthenticationResult.NewDeviceMetadata, undefined, 'refreshes never hand out keys');
      assert.notEqual(tokens.accessToken.payload.jti, previous.accessToken.payload.jti, 'access token not renewed');
      assert.equal(tokens.accessToken.payload.device_key, deviceKey);
      assertOk(await server.call('GetUser', { AccessToken: tokens.accessToken.toString() }));

      // Another device's key is refused by both refresh operations; no key at all is accepted.
      assertAwsError(
        await server.call('GetTokensFromRefreshToken', {
          ClientId: fixture.clientId, RefreshToken: refreshToken, DeviceKey: OTHER_DEVICE_KEY,
        }),
        'NotAuthorizedException',
        'Invalid Refresh Token',
      );
      assertAwsError(
        await server.call('InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: fixture.clientId,
          AuthParameters: { REFRESH_TOKEN: refreshToken, DEVICE_KEY: OTHER_DEVICE_KEY },
        }),
        'NotAuthorizedException',
        'Invalid Refresh Token',
      );
      const noKey = assertOk(await server.call('GetTokensFromRefreshToken', {
        ClientId: fixture.clientId, RefreshToken: refreshToken,
      }));
      assert.equal(decodeJwt(noKey.AuthenticationResult.AccessToken).payload.device_key, deviceKey);
    });

    test('signIn with USER_PASSWORD_AUTH presents the remembered device in InitiateAuth and passes device SRP', async () => {
      await signOut();
      const m = mark();
      assert.deepEqual(await signIn({ ...credentials(), options: { authFlowType: 'USER_PASSWORD_AUTH' } }), DONE);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'RespondToAuthChallenge 200'], shown(m));
      const [initiate, srpAuth, deviceVerifier] = since(m);
      assert.equal(initiate.request.AuthFlow, 'USER_PASSWORD_AUTH');
      assert.equal(initiate.request.AuthParameters.DEVICE_KEY, deviceKey);
      const result = assertDeviceSrp([initiate, srpAuth, deviceVerifier], { deviceKey, username: 'erin' });
      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.toString(), result.AccessToken);
      assert.equal(stored('deviceKey'), deviceKey);
    });

    test('forgetDevice: the metadata is cleared, the device is gone, fetchDevices still works, signOut ends the session', async () => {
      const { tokens } = await fetchAuthSession();
      const refreshToken = stored('refreshToken');
      const m = mark();
      await forgetDevice();
      assert.deepEqual(callsSince(m), ['ForgetDevice 200'], shown(m));
      assert.deepEqual(since(m)[0].request, { AccessToken: tokens.accessToken.toString(), DeviceKey: deviceKey });
      assert.equal(stored('deviceKey'), null, 'Amplify kept the forgotten key');
      assert.equal(stored('deviceGroupKey'), null);
      assert.equal(stored('randomPasswordKey'), null);

      await assert.rejects(adminGetDevice(deviceKey), { name: 'ResourceNotFoundException' });
      assert.deepEqual(await adminDeviceKeys(), []);
      // The "forget this device" screen refreshes its list right after the click: the access
      // token that made the call still works, the device is gone, and signOut succeeds.
      const m2 = mark();
      assert.deepEqual(await fetchDevices(), []);
      assert.deepEqual(callsSince(m2), ['ListDevices 200'], shown(m2));
      assert.equal((await server.call('GetUser', { AccessToken: tokens.accessToken.toString() })).status, 200);
      // Only its refresh token is revoked.
      assertAwsError(
        await server.call('GetTokensFromRefreshToken', { ClientId: fixture.clientId, RefreshToken: refreshToken }),
        'NotAuthorizedException',
        'Refresh Token has been revoked',
      );
      await signOut();
      // signOut revokes the session (RevokeToken): the access token is now refused too.
      assertAwsError(
        await server.call('GetUser', { AccessToken: tokens.accessToken.toString() }),
        'NotAuthorizedException',
        'Access Token has been revoked',
      );
    });

    test('the next signIn gets a new device key; fetchDevices does not list the forgotten one', async () => {
      const forgotten = deviceKey;
      const m = mark();
      assert.deepEqual(await signIn(credentials()), DONE);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200', 'ConfirmDevice 200'], shown(m));
      const [, verifier, confirm] = since(m);
      assert.equal(verifier.request.ChallengeResponses.DEVICE_KEY, undefined);
      const meta = assertNewDevice(verifier, confirm, {
        name: AMPLIFY_DEVICE_NAME, userConfirmationNecessary: true,
      });
      assert.notEqual(meta.DeviceKey, forgotten);
      deviceKey = meta.DeviceKey;
      assert.equal(stored('deviceKey'), deviceKey);
      // The forgotten device is gone; the new one waits for rememberDevice (Opt-In).
      assert.deepEqual(await fetchDevices(), []);
      await rememberDevice();
      assert.deepEqual((await fetchDevices()).map((d) => d.id), [deviceKey]);
      assert.deepEqual(await adminDeviceKeys(), [deviceKey]);
    });

    test('stale key (SRP): after AdminForgetDevice, signIn retries PASSWORD_VERIFIER without it and gets a new key', async () => {
      const stale = deviceKey;
      await signOut(); // first: forgetting the device revokes this session's tokens
      await admin(AdminForgetDeviceCommand, { DeviceKey: stale });
      assert.equal(stored('deviceKey'), stale, 'Amplify does not know yet');

      const m = mark();
      assert.deepEqual(await signIn(credentials()), DONE);
      assert.deepEqual(callsSince(m), [
        'InitiateAuth 200',
        'RespondToAuthChallenge 400', // PASSWORD_VERIFIER with the stale key
        'RespondToAuthChallenge 200', // PASSWORD_VERIFIER again, without a key
        'ConfirmDevice 200',
      ], shown(m));
      const [, refused, retried, confirm] = since(m);
      assert.equal(refused.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(refused.request.ChallengeResponses.DEVICE_KEY, stale);
      assertAwsError(refused, 'ResourceNotFoundException', 'Device does not exist.');
      // Amplify re-signs the same challenge (same Session and SECRET_BLOCK), without the key.
      assert.equal(retried.request.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(retried.request.ChallengeResponses.DEVICE_KEY, undefined);
      assert.equal(retried.request.Session, refused.request.Session);
      assert.equal(retried.request.ChallengeResponses.PASSWORD_CLAIM_SECRET_BLOCK,
        refused.request.ChallengeResponses.PASSWORD_CLAIM_SECRET_BLOCK);
      const meta = assertNewDevice(retried, confirm, {
        name: AMPLIFY_DEVICE_NAME, userConfirmationNecessary: true,
      });
      assert.notEqual(meta.DeviceKey, stale);
      deviceKey = meta.DeviceKey;
      assert.equal(stored('deviceKey'), deviceKey);
      assert.equal((await fetchAuthSession()).tokens.accessToken.payload.device_key, deviceKey);
      assert.deepEqual(await adminDeviceKeys(), [deviceKey]);
    });

    test('stale key (USER_PASSWORD_AUTH): the forgotten key is ignored and a new one issued', async () => {
      const stale = deviceKey;
      await signOut(); // first: forgetting the device revokes this session's tokens
      await admin(AdminForgetDeviceCommand, { DeviceKey: stale });

      const m = mark();
      assert.deepEqual(await signIn({ ...credentials(), options: { authFlowType: 'USER_PASSWORD_AUTH' } }), DONE);
      assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'ConfirmDevice 200'], shown(m));
      const [initiate, confirm] = since(m);
      assert.equal(initiate.request.AuthParameters.DEVICE_KEY, stale);
      const meta = assertNewDevice(initiate, confirm, {
        name: AMPLIFY_DEVICE_NAME, userConfirmationNecessary: true,
      });
      assert.notEqual(meta.DeviceKey, stale);
      deviceKey = meta.DeviceKey;
      assert.equal(stored('deviceKey'), deviceKey);
      assert.equal((await fetchAuthSession()).tokens.accessToken.payload.device_key, deviceKey);
      assert.deepEqual(await adminDeviceKeys(), [deviceKey]);
    });
  });
});
