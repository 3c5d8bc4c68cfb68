// AWS Amplify v6 (aws-amplify from npm, unmodified) in plain Node against a Gatehouse server
// process: signIn (SRP and USER_PASSWORD_AUTH), fetchAuthSession (+ forceRefresh), getCurrentUser,
// fetchUserAttributes, signOut (token revocation).
//
// Token storage: Amplify's default storage falls back to an in-memory store when there is no
// window.localStorage (as in Node), so the defaults work as they are; the first test shows that.
// The other tests give the token provider an in-memory storage of ours (setKeyValueStorage) so
// they can read the refresh token Amplify holds and check that sign-out removed it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Amplify } from 'aws-amplify';
import {
  confirmSignIn,
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  signIn,
  signOut,
} from 'aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito';
import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';

import {
  GatehouseServer,
  MemoryStorage,
  assertAccessClaims,
  assertAwsError,
  assertIdClaims,
  assertOk,
  createPoolWithUser,
  decodeJwt,
  recordClientExchanges,
} from './server.mjs';

// Observe (not alter) what Amplify sends to the server: operation, status and bodies (the tests'
// own raw calls through server.call are not recorded).
const { mark, since, callsSince, shown } = recordClientExchanges();

describe('Amplify v6 (aws-amplify) in Node', () => {
  let server;
  let fixture;
  let issuer;
  let storage;
  let sub;

  const configure = (clientId = fixture.clientId) => Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: fixture.poolId,
        userPoolClientId: clientId,
        userPoolEndpoint: server.url,
      },
    },
  });

  const storedRefreshToken = () =>
    storage.getItem(`CognitoIdentityServiceProvider.${fixture.clientId}.${fixture.username}.refreshToken`);

  before(async () => {
    server = await GatehouseServer.start();
    fixture = await createPoolWithUser(server.admin, {
      poolName: 'amplify',
      username: 'bob',
      password: 'Correct-Horse-1',
      attributes: {
        email: 'bob@example.com',
        email_verified: 'true',
        given_name: 'Bob',
        phone_number: '+15555550100',
        phone_number_verified: 'false',
      },
    });
    issuer = `${server.url}/${fixture.poolId}`;
    sub = fixture.sub;
    configure();
  });

  after(async () => {
    try {
      await signOut();
    } catch {
      // nothing to sign out of
    }
    await server?.stop();
  });

  test('the default token storage works in Node: SRP signIn, fetchAuthSession, signOut', async () => {
    const result = await signIn({ username: fixture.username, password: fixture.password });
    assert.deepEqual(result, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    const session = await fetchAuthSession();
    assert.equal(session.tokens.accessToken.payload.username, 'bob');
    assert.equal(session.userSub, sub);
    await signOut();
    const signedOut = await fetchAuthSession();
    assert.equal(signedOut.tokens, undefined, 'tokens still there after signOut');
  });

  test('signIn with SRP (default USER_SRP_AUTH) completes with tokens in storage', async () => {
    storage = new MemoryStorage();
    cognitoUserPoolsTokenProvider.setKeyValueStorage(storage);
    const m = mark();
    const result = await signIn({ username: fixture.username, password: fixture.password });
    assert.deepEqual(result, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200']);
    const initiate = since(m)[0];
    assert.equal(initiate.request.AuthFlow, 'USER_SRP_AUTH');
    const challenge = initiate.body;
    assert.equal(challenge.ChallengeName, 'PASSWORD_VERIFIER');
    assert.equal(challenge.ChallengeParameters.USER_ID_FOR_SRP, 'bob');
    assert.equal(challenge.ChallengeParameters.USERNAME, 'bob');

    const prefix = `CognitoIdentityServiceProvider.${fixture.clientId}`;
    assert.equal(storage.getItem(`${prefix}.LastAuthUser`), 'bob');
    assert.ok(storedRefreshToken(), `no refresh token stored; keys: ${storage.keys()}`);
    assertAccessClaims(decodeJwt(storage.getItem(`${prefix}.bob.accessToken`)).payload, {
      issuer, clientId: fixture.clientId, username: 'bob', sub,
    });
  });

  test('getCurrentUser names the user and the sign-in flow', async () => {
    const user = await getCurrentUser();
    assert.deepEqual(user, {
      username: 'bob',
      userId: sub,
      signInDetails: { loginId: 'bob', authFlowType: 'USER_SRP_AUTH' },
    });
  });

  test('fetchAuthSession returns the Cognito tokens', async () => {
    const session = await fetchAuthSession();
    assert.equal(session.userSub, sub);
    const { accessToken, idToken } = session.tokens;
    assertAccessClaims(accessToken.payload, { issuer, clientId: fixture.clientId, username: 'bob', sub });
    assertIdClaims(idToken.payload, { issuer, clientId: fixture.clientId, username: 'bob', sub });
    assert.equal(idToken.payload.email, 'bob@example.com');
    assert.equal(idToken.payload.email_verified, true);
    assert.equal(idToken.payload.phone_number, '+15555550100');
    assert.equal(idToken.payload.phone_number_verified, false);
    assert.equal(idToken.payload.given_name, 'Bob');
    // The token objects carry the exact strings the server issued.
    assert.deepEqual(decodeJwt(accessToken.toString()).payload, accessToken.payload);
  });

  test('fetchUserAttributes (GetUser) returns the attributes set by the admin', async () => {
    const attrs = await fetchUserAttributes();
    assert.deepEqual(attrs, {
      sub,
      email: 'bob@example.com',
      email_verified: 'true',
      given_name: 'Bob',
      phone_number: '+15555550100',
      phone_number_verified: 'false',
    });
  });

  test('fetchAuthSession({forceRefresh: true}) gets a new access token that the server accepts', async () => {
    const before = (await fetchAuthSession()).tokens;
    const refreshBefore = storedRefreshToken();
    const m = mark();
    const session = await fetchAuthSession({ forceRefresh: true });
    assert.deepEqual(callsSince(m), ['GetTokensFromRefreshToken 200']);
    assert.equal(since(m)[0].request.RefreshToken, refreshBefore);

    const { accessToken, idToken } = session.tokens;
    assert.notEqual(accessToken.toString(), before.accessToken.toString(), 'access token not renewed');
    assert.notEqual(accessToken.payload.jti, before.accessToken.payload.jti);
    assert.notEqual(idToken.payload.jti, before.idToken.payload.jti);
    assertAccessClaims(accessToken.payload, { issuer, clientId: fixture.clientId, username: 'bob', sub });
    assertIdClaims(idToken.payload, { issuer, clientId: fixture.clientId, username: 'bob', sub });
    assert.equal(accessToken.payload.origin_jti, before.accessToken.payload.origin_jti);
    assert.equal(storedRefreshToken(), refreshBefore, 'no rotation configured: same refresh token');

    const got = assertOk(await server.call('GetUser', { AccessToken: accessToken.toString() }));
    assert.equal(got.Username, 'bob');
    // And Amplify itself keeps working with the new token.
    assert.equal((await fetchUserAttributes()).sub, sub);
  });

  test('signOut revokes the refresh token (RevokeToken); InitiateAuth REFRESH_TOKEN_AUTH then refuses it', async () => {
    const refreshToken = storedRefreshToken();
    const accessToken = (await fetchAuthSession()).tokens.accessToken.toString();
    assert.ok(refreshToken);
    // Before sign-out the raw refresh works.
    const ok = assertOk(await server.call('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: fixture.clientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    }));
    assert.equal(decodeJwt(ok.AuthenticationResult.AccessToken).payload.username, 'bob');

    const m = mark();
    await signOut();
    // Amplify swallows RevokeToken errors, so check what the server answered.
    assert.deepEqual(callsSince(m), ['RevokeToken 200'], shown(m));
    assert.deepEqual(since(m)[0].request, { ClientId: fixture.clientId, Token: refreshToken });
    assert.deepEqual(since(m)[0].body, {});
    assert.equal(storedRefreshToken(), null, 'Amplify kept the refresh token');
    await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });

    assertAwsError(
      await server.call('InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: fixture.clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
      'NotAuthorizedException',
      'Refresh Token has been revoked',
    );
    assertAwsError(
      await server.call('GetUser', { AccessToken: accessToken }),
      'NotAuthorizedException',
      'Access Token has been revoked',
    );
  });

  test('signIn with authFlowType USER_PASSWORD_AUTH', async () => {
    const m = mark();
    const result = await signIn({
      username: fixture.username,
      password: fixture.password,
      options: { authFlowType: 'USER_PASSWORD_AUTH' },
    });
    assert.deepEqual(result, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.deepEqual(callsSince(m), ['InitiateAuth 200']);
    assert.equal(since(m)[0].request.AuthFlow, 'USER_PASSWORD_AUTH');

    const user = await getCurrentUser();
    assert.deepEqual(user, {
      username: 'bob',
      userId: sub,
      signInDetails: { loginId: 'bob', authFlowType: 'USER_PASSWORD_AUTH' },
    });
    const { tokens } = await fetchAuthSession();
    assertAccessClaims(tokens.accessToken.payload, { issuer, clientId: fixture.clientId, username: 'bob', sub });
    assertIdClaims(tokens.idToken.payload, { issuer, clientId: fixture.clientId, username: 'bob', sub });
    assert.equal((await fetchUserAttributes()).email, 'bob@example.com');
    await signOut();
  });

  test('a wrong password is refused with NotAuthorizedException, for both flows', async () => {
    for (const authFlowType of ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH']) {
      await assert.rejects(
        signIn({ username: fixture.username, password: 'Wrong-Horse-1', options: { authFlowType } }),
        (err) => {
          assert.equal(err.name, 'NotAuthorizedException', `${authFlowType}: ${err.stack}`);
          assert.equal(err.message, 'Incorrect username or password.');
          return true;
        },
      );
    }
    await assert.rejects(getCurrentUser(), { name: 'UserUnAuthenticatedException' });
  });

  test('USER_PASSWORD_AUTH on a client that does not allow it is refused', async () => {
    const created = await server.admin.send(new CreateUserPoolClientCommand({
      UserPoolId: fixture.poolId,
      ClientName: 'srp-only',
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }));
    configure(created.UserPoolClient.ClientId);
    try {
      await assert.rejects(
        signIn({
          username: fixture.username,
          password: fixture.password,
          options: { authFlowType: 'USER_PASSWORD_AUTH' },
        }),
        (err) => {
          // Real Cognito answers InvalidParameterException here (not NotAuthorizedException).
          assert.equal(err.name, 'InvalidParameterException', err.stack);
          assert.equal(err.message, 'USER_PASSWORD_AUTH flow not enabled for this client');
          return true;
        },
      );
      // SRP is allowed there.
      const result = await signIn({ username: fixture.username, password: fixture.password });
      assert.equal(result.isSignedIn, true);
      const { tokens } = await fetchAuthSession();
      assert.equal(tokens.accessToken.payload.client_id, created.UserPoolClient.ClientId);
      await signOut();
    } finally {
      configure();
    }
  });
});

// Choice-based sign-in (USER_AUTH, docs/passwordless.md) on a pool allowing email codes, with a
// client allowing USER_AUTH alone: the code is read from the development outbox.
describe('Amplify v6 choice-based sign-in (USER_AUTH)', () => {
  let server;
  let fixture;
  let issuer;

  const lastCode = async () => {
    const sent = await server.outbox(fixture.poolId, fixture.username, 'MFA');
    assert.ok(sent.length > 0, 'no code in the outbox');
    const code = sent.at(-1).Code;
    assert.match(code, /^\d{8}$/);
    return code;
  };

  before(async () => {
    server = await GatehouseServer.start();
    fixture = await createPoolWithUser(server.admin, {
      poolName: 'amplify-user-auth',
      username: 'erin',
      password: 'Correct-Horse-1',
      attributes: { email: 'erin@example.com' },
      poolOptions: { Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP'] } } },
      clientOptions: { ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] },
    });
    issuer = `${server.url}/${fixture.poolId}`;
    Amplify.configure({
      Auth: {
        Cognito: {
          userPoolId: fixture.poolId,
          userPoolClientId: fixture.clientId,
          userPoolEndpoint: server.url,
        },
      },
    });
  });

  after(async () => {
    try {
      await signOut();
    } catch {
      // nothing to sign out of
    }
    await server?.stop();
  });

  test("signIn with USER_AUTH and preferredChallenge 'EMAIL_OTP', confirmSignIn with the code", async () => {
    const m = mark();
    const first = await signIn({
      username: fixture.username,
      options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' },
    });
    assert.equal(first.isSignedIn, false);
    assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
    assert.deepEqual(first.nextStep.codeDeliveryDetails, { deliveryMedium: 'EMAIL', destination: 'e***@e***' });
    const [initiate] = since(m);
    assert.equal(initiate.request.AuthFlow, 'USER_AUTH');
    assert.equal(initiate.request.AuthParameters.PREFERRED_CHALLENGE, 'EMAIL_OTP');

    const done = await confirmSignIn({ challengeResponse: await lastCode() });
    assert.deepEqual(done, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
    const { tokens } = await fetchAuthSession();
    assertAccessClaims(tokens.accessToken.payload, {
      issuer, clientId: fixture.clientId, username: 'erin', sub: fixture.sub,
    });
    assert.equal(tokens.idToken.payload.email_verified, true);
    await signOut();
  });

  test('a wrong code is refused and the same sign-in takes the right one next', async () => {
    await signIn({
      username: fixture.username,
      options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' },
    });
    const code = await lastCode();
    await assert.rejects(confirmSignIn({ challengeResponse: code === '00000000' ? '11111111' : '00000000' }),
      (err) => err.name === 'CodeMismatchException');
    const done = await confirmSignIn({ challengeResponse: code });
    assert.equal(done.isSignedIn, true);
    await signOut();
  });

  test('without a preference: the first-factor selection, then the email code', async () => {
    const first = await signIn({ username: fixture.username, options: { authFlowType: 'USER_AUTH' } });
    assert.equal(first.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION');
    assert.deepEqual(first.nextStep.availableChallenges, ['PASSWORD_SRP', 'PASSWORD', 'EMAIL_OTP']);
    const chosen = await confirmSignIn({ challengeResponse: 'EMAIL_OTP' });
    assert.equal(chosen.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
    const done = await confirmSignIn({ challengeResponse: await lastCode() });
    assert.equal(done.isSignedIn, true);
    await signOut();
  });

  test("signIn with USER_AUTH and preferredChallenge 'PASSWORD_SRP' signs in with SRP", async () => {
    const m = mark();
    const result = await signIn({
      username: fixture.username,
      password: fixture.password,
      options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD_SRP' },
    });
    assert.deepEqual(result, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    assert.deepEqual(callsSince(m), ['InitiateAuth 200', 'RespondToAuthChallenge 200'], shown(m));
    assert.equal(since(m)[0].body.ChallengeName, 'PASSWORD_VERIFIER');
    await signOut();
  });
});
