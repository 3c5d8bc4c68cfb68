// amazon-cognito-identity-js (unmodified, from npm) against a Gatehouse server process:
// SRP sign-in, GetUser, ChangePassword, refresh, GlobalSignOut.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import identityJs from 'amazon-cognito-identity-js';
import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';

import {
  GatehouseServer,
  assertAccessClaims,
  assertAwsError,
  assertIdClaims,
  assertOk,
  authenticate,
  callback,
  createPoolWithUser,
  decodeJwt,
  identityJsClient,
  nodeCall,
} from './server.mjs';

const { CognitoUserPool } = identityJs;

/** Assert a rejection with this error name (= code) and exact message. */
async function assertRejects(promise, code, message) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `code of ${err.stack}`);
    assert.equal(err.name, code);
    assert.equal(err.message, message);
    return true;
  });
}

describe('amazon-cognito-identity-js 6.3', () => {
  let server;
  let fixture;
  let storage;
  let newUser; // (username = fixture.username) => a CognitoUser over `storage`
  let issuer;
  let sub;
  let firstSession;

  before(async () => {
    server = await GatehouseServer.start();
    fixture = await createPoolWithUser(server.admin, {
      poolName: 'identity-js',
      username: 'alice',
      password: 'Correct-Horse-1',
      attributes: {
        email: 'alice@example.com',
        email_verified: 'true',
        given_name: 'Alice',
        family_name: 'Liddell',
      },
    });
    issuer = `${server.url}/${fixture.poolId}`;
    sub = fixture.sub;
    ({ storage, newUser } = identityJsClient(server, fixture));
  });

  after(async () => {
    await server?.stop();
  });

  test('SRP sign-in (USER_SRP_AUTH, the default) returns a valid session with Cognito claims', async () => {
    const user = newUser();
    assert.equal(user.getAuthenticationFlowType(), 'USER_SRP_AUTH');
    const { session, userConfirmationNecessary } = await authenticate(user, fixture.username, fixture.password);
    // No device tracking on this pool: no NewDeviceMetadata, so no device confirmation step.
    assert.ok(!userConfirmationNecessary, 'device confirmation asked for');
    assert.ok(session.isValid(), 'session not valid');

    const access = decodeJwt(session.getAccessToken().getJwtToken());
    const id = decodeJwt(session.getIdToken().getJwtToken());
    assert.equal(access.header.alg, 'RS256');
    assert.equal(typeof access.header.kid, 'string');
    assert.equal(id.header.alg, 'RS256');
    assertAccessClaims(access.payload, { issuer, clientId: fixture.clientId, username: 'alice', sub });
    assertIdClaims(id.payload, { issuer, clientId: fixture.clientId, username: 'alice', sub });
    assert.equal(id.payload.email, 'alice@example.com');
    assert.equal(id.payload.email_verified, true);
    assert.equal(id.payload.given_name, 'Alice');
    assert.equal(id.payload.family_name, 'Liddell');
    assert.equal(access.payload.origin_jti, id.payload.origin_jti, 'one sign-in, one origin_jti');
    assert.equal(access.payload.event_id, id.payload.event_id);
    // What the client read out of the tokens.
    assert.equal(session.getAccessToken().getExpiration(), access.payload.exp);
    assert.equal(session.getIdToken().decodePayload().sub, sub);
    assert.ok(session.getRefreshToken().getToken().length > 0, 'no refresh token');

    // The client stored the session under the canonical username (USER_ID_FOR_SRP).
    const prefix = `CognitoIdentityServiceProvider.${fixture.clientId}`;
    assert.equal(storage.getItem(`${prefix}.LastAuthUser`), 'alice');
    assert.equal(storage.getItem(`${prefix}.alice.accessToken`), session.getAccessToken().getJwtToken());
    assert.equal(storage.getItem(`${prefix}.alice.idToken`), session.getIdToken().getJwtToken());
    assert.equal(storage.getItem(`${prefix}.alice.refreshToken`), session.getRefreshToken().getToken());
    firstSession = session;
  });

  test('the stored session is found again by a new CognitoUserPool over the same storage', async () => {
    const again = new CognitoUserPool({
      UserPoolId: fixture.poolId,
      ClientId: fixture.clientId,
      endpoint: `${server.url}/`,
      Storage: storage,
    });
    const current = again.getCurrentUser();
    assert.ok(current, 'no current user');
    assert.equal(current.getUsername(), 'alice');
    const session = await nodeCall(current, 'getSession');
    assert.ok(session.isValid());
    assert.equal(session.getAccessToken().getJwtToken(), firstSession.getAccessToken().getJwtToken());
  });

  test('a wrong password is refused with NotAuthorizedException', async () => {
    await assertRejects(
      authenticate(newUser(), fixture.username, 'Wrong-Horse-1'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
  });

  test('an unknown user is refused with UserNotFoundException (PreventUserExistenceErrors LEGACY)', async () => {
    await assertRejects(
      authenticate(newUser('nobody'), 'nobody', 'Correct-Horse-1'),
      'UserNotFoundException',
      'User does not exist.',
    );
  });

  test('with PreventUserExistenceErrors ENABLED an unknown user gets a challenge, then "Incorrect username or password."', async () => {
    const created = await server.admin.send(new CreateUserPoolClientCommand({
      UserPoolId: fixture.poolId,
      ClientName: 'hides-users',
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
    }));
    const hiding = identityJsClient(server, { ...fixture, clientId: created.UserPoolClient.ClientId });
    for (const [username, password] of [['nobody', 'Correct-Horse-1'], ['alice', 'Wrong-Horse-1']]) {
      const user = hiding.newUser(username);
      await assertRejects(
        authenticate(user, username, password),
        'NotAuthorizedException',
        'Incorrect username or password.',
      );
    }
  });

  test('getUserAttributes returns the attributes set by the admin and the sub', async () => {
    const user = newUser();
    await authenticate(user, fixture.username, fixture.password);
    const list = await nodeCall(user, 'getUserAttributes');
    const attrs = Object.fromEntries(list.map((a) => [a.getName(), a.getValue()]));
    assert.deepEqual(attrs, {
      sub,
      email: 'alice@example.com',
      email_verified: 'true',
      given_name: 'Alice',
      family_name: 'Liddell',
    });
  });

  test('changePassword, then only the new password signs in', async () => {
    const user = newUser();
    await authenticate(user, fixture.username, fixture.password);
    // Wrong previous password first: refused, nothing changes.
    await assertRejects(
      nodeCall(user, 'changePassword', 'Not-The-Password-1', 'Battery-Staple-2'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    assert.equal(await nodeCall(user, 'changePassword', fixture.password, 'Battery-Staple-2'), 'SUCCESS');
    await assertRejects(
      authenticate(newUser(), fixture.username, fixture.password),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    const { session } = await authenticate(newUser(), fixture.username, 'Battery-Staple-2');
    assert.ok(session.isValid());
    assert.equal(decodeJwt(session.getAccessToken().getJwtToken()).payload.sub, sub);
    fixture.password = 'Battery-Staple-2';
  });

  test('refreshSession (REFRESH_TOKEN_AUTH) issues new, valid access and ID tokens', async () => {
    const user = newUser();
    const { session } = await authenticate(user, fixture.username, fixture.password);
    const oldAccess = decodeJwt(session.getAccessToken().getJwtToken()).payload;
    const oldId = decodeJwt(session.getIdToken().getJwtToken()).payload;
    const refreshToken = session.getRefreshToken();

    const refreshed = await nodeCall(user, 'refreshSession', refreshToken);
    assert.ok(refreshed.isValid());
    const access = decodeJwt(refreshed.getAccessToken().getJwtToken()).payload;
    const id = decodeJwt(refreshed.getIdToken().getJwtToken()).payload;
    assertAccessClaims(access, { issuer, clientId: fixture.clientId, username: 'alice', sub });
    assertIdClaims(id, { issuer, clientId: fixture.clientId, username: 'alice', sub });
    assert.notEqual(access.jti, oldAccess.jti, 'same access token jti after refresh');
    assert.notEqual(id.jti, oldId.jti, 'same ID token jti after refresh');
    assert.equal(access.origin_jti, oldAccess.origin_jti, 'refresh keeps the sign-in origin_jti');
    assert.equal(access.auth_time, oldAccess.auth_time, 'refresh keeps auth_time');
    // No rotation configured: the client keeps the refresh token it had.
    assert.equal(refreshed.getRefreshToken().getToken(), refreshToken.getToken());

    // The new access token works on the server.
    const got = assertOk(await server.call('GetUser', { AccessToken: refreshed.getAccessToken().getJwtToken() }));
    assert.equal(got.Username, 'alice');
  });

  test('globalSignOut revokes the refresh token (NotAuthorizedException) and the access token', async () => {
    const user = newUser();
    const { session } = await authenticate(user, fixture.username, fixture.password);
    const accessToken = session.getAccessToken().getJwtToken();
    const refreshToken = session.getRefreshToken();

    assert.equal(await callback(user, 'globalSignOut'), 'SUCCESS');
    const prefix = `CognitoIdentityServiceProvider.${fixture.clientId}`;
    assert.equal(storage.getItem(`${prefix}.alice.refreshToken`), null, 'client did not clear its tokens');

    // The client retries refresh with backoff (about 6 s) before it gives up.
    await assertRejects(
      nodeCall(newUser(), 'refreshSession', refreshToken),
      'NotAuthorizedException',
      'Refresh Token has been revoked',
    );
    assertAwsError(
      await server.call('GetUser', { AccessToken: accessToken }),
      'NotAuthorizedException',
      'Access Token has been revoked',
    );

    // Signing in again still works and gives a fresh, usable session.
    const { session: fresh } = await authenticate(newUser(), fixture.username, fixture.password);
    assertOk(await server.call('GetUser', { AccessToken: fresh.getAccessToken().getJwtToken() }));
  });
});
