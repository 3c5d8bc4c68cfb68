// Lambda triggers through the real JS clients (docs/triggers.md): a passwordless sign-in by an
// emailed code conducted by the custom authentication triggers, with amazon-cognito-identity-js
// (initiateAuth CUSTOM_AUTH + sendCustomChallengeAnswer, and authenticateUser's CUSTOM_AUTH with
// SRP) and Amplify v6 (signIn CUSTOM_WITHOUT_SRP + confirmSignIn); a legacy user UserMigration
// brings in at a USER_PASSWORD_AUTH sign-in, then signing in with SRP; and a claim PreTokenGeneration
// V2_0 adds, verified by aws-jwt-verify in both tokens. The functions run on a Lambda Invoke API
// this process serves (lambda_runtime.mjs); the server is a process of its own started with
// --lambda-endpoint (also in the cluster lane, whose processes have no such flag).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';

import identityJs from 'amazon-cognito-identity-js';
import { JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import { NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { confirmSignIn, signIn } from 'aws-amplify/auth';

import { LambdaRuntime } from './lambda_runtime.mjs';
import {
  GatehouseServer,
  authenticate,
  configureAmplify,
  createPoolWithUser,
  identityJsClient,
  signOutIfSignedIn,
} from './server.mjs';

const { AuthenticationDetails } = identityJs;

/**
 * The three challenge triggers of a passwordless sign-in: Create mails a fresh random code to the
 * email address its event carries (into `mailbox`, address → codes), as a real function would
 * through SES; Verify compares the answer with it.
 */
function passwordless(runtime, prefix, mailbox) {
  const define = (event) => {
    const rounds = event.request.session;
    const last = rounds.at(-1);
    if (last?.challengeName === 'CUSTOM_CHALLENGE' && last.challengeResult) event.response.issueTokens = true;
    else if (rounds.filter((r) => r.challengeName === 'CUSTOM_CHALLENGE').length >= 3) event.response.failAuthentication = true;
    else if (rounds.length === 1 && rounds[0].challengeName === 'SRP_A') event.response.challengeName = 'PASSWORD_VERIFIER';
    else event.response.challengeName = 'CUSTOM_CHALLENGE';
    return event;
  };
  const create = (event) => {
    const to = event.request.userAttributes.email;
    if (!to) throw new Error('no email address in the CreateAuthChallenge event');
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    mailbox.set(to, [...(mailbox.get(to) ?? []), code]);
    event.response.publicChallengeParameters = { delivery: 'EMAIL' };
    event.response.privateChallengeParameters = { code };
    event.response.challengeMetadata = `CODE-${code}`;
    return event;
  };
  const verify = (event) => {
    event.response.answerCorrect = event.request.challengeAnswer === event.request.privateChallengeParameters.code;
    return event;
  };
  return {
    DefineAuthChallenge: runtime.fn(`${prefix}-define`, define),
    CreateAuthChallenge: runtime.fn(`${prefix}-create`, create),
    VerifyAuthChallengeResponse: runtime.fn(`${prefix}-verify`, verify),
  };
}

/** identity-js callbacks for a custom sign-in: resolves {kind, ...} at each step. */
function customCallbacks(resolve, reject) {
  return {
    onSuccess: (session) => resolve({ kind: 'success', session }),
    onFailure: reject,
    customChallenge: (parameters) => resolve({ kind: 'challenge', parameters }),
  };
}

class HttpFetcher {
  async fetch(uri) {
    const resp = await fetch(uri, { signal: AbortSignal.timeout(5000) });
    if (resp.status !== 200) throw new NonRetryableFetchError(uri, `Status code is ${resp.status}`);
    return resp.arrayBuffer();
  }
}

describe('Lambda triggers with the JS clients', () => {
  let runtime;
  let server;
  let mailbox;
  let fixture;
  /** The code last mailed to the signing-in user's address. */
  const mailed = () => mailbox.get(fixture.attributes.email).at(-1);

  before(async () => {
    runtime = await LambdaRuntime.start();
    server = await GatehouseServer.start({ args: ['--lambda-endpoint', runtime.url] });
    mailbox = new Map();
    const customize = (event) => {
      event.response.claimsAndScopeOverrideDetails = {
        idTokenGeneration: { claimsToAddOrOverride: { tenant: 'acme' } },
        accessTokenGeneration: { claimsToAddOrOverride: { tenant: 'acme' } },
      };
      return event;
    };
    fixture = await createPoolWithUser(server.admin, {
      poolName: 'triggers',
      poolOptions: {
        LambdaConfig: {
          ...passwordless(runtime, 'node', mailbox),
          PreTokenGenerationConfig: { LambdaArn: runtime.fn('node-tokens', customize), LambdaVersion: 'V2_0' },
        },
      },
      clientOptions: {
        ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      },
    });
  });

  after(async () => {
    await signOutIfSignedIn();
    await server?.stop();
    await runtime?.stop();
  });

  test('amazon-cognito-identity-js: initiateAuth CUSTOM_AUTH, then sendCustomChallengeAnswer', async () => {
    const user = identityJsClient(server, fixture).newUser();
    user.setAuthenticationFlowType('CUSTOM_AUTH');
    const first = await new Promise((resolve, reject) => user.initiateAuth(
      new AuthenticationDetails({ Username: fixture.username }), customCallbacks(resolve, reject)));
    assert.equal(first.kind, 'challenge');
    assert.deepEqual(first.parameters, { delivery: 'EMAIL', USERNAME: fixture.username });
    const firstCode = mailed();
    const sent = mailbox.get(fixture.attributes.email).length;
    const wrong = await new Promise((resolve, reject) =>
      user.sendCustomChallengeAnswer(firstCode === '000000' ? '999999' : '000000', customCallbacks(resolve, reject)));
    assert.equal(wrong.kind, 'challenge', 'a wrong code: another challenge');
    assert.equal(mailbox.get(fixture.attributes.email).length, sent + 1, 'the next challenge mailed a new code');
    const done = await new Promise((resolve, reject) =>
      user.sendCustomChallengeAnswer(mailed(), customCallbacks(resolve, reject)));
    assert.equal(done.kind, 'success');
    assert.equal(done.session.getAccessToken().decodePayload().username, fixture.username);
  });

  test('amazon-cognito-identity-js: authenticateUser with CUSTOM_AUTH checks the password by SRP first', async () => {
    const user = identityJsClient(server, fixture).newUser();
    user.setAuthenticationFlowType('CUSTOM_AUTH');
    const challenge = await new Promise((resolve, reject) => user.authenticateUser(
      new AuthenticationDetails({ Username: fixture.username, Password: fixture.password }),
      customCallbacks(resolve, reject)));
    assert.equal(challenge.kind, 'challenge');
    const done = await new Promise((resolve, reject) =>
      user.sendCustomChallengeAnswer(mailed(), customCallbacks(resolve, reject)));
    assert.equal(done.kind, 'success');
    const sessions = runtime.events('node-define').map((e) => e.request.session.map((r) => r.challengeName));
    assert.deepEqual(sessions.slice(-3), [['SRP_A'], ['SRP_A', 'PASSWORD_VERIFIER'],
      ['SRP_A', 'PASSWORD_VERIFIER', 'CUSTOM_CHALLENGE']]);
  });

  test('Amplify v6: signIn CUSTOM_WITHOUT_SRP, then confirmSignIn with the code', async () => {
    configureAmplify(server, fixture);
    const started = await signIn({ username: fixture.username, options: { authFlowType: 'CUSTOM_WITHOUT_SRP' } });
    assert.equal(started.isSignedIn, false);
    assert.equal(started.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
    assert.deepEqual(started.nextStep.additionalInfo, { delivery: 'EMAIL', USERNAME: fixture.username });
    const done = await confirmSignIn({ challengeResponse: mailed() });
    assert.deepEqual(done, { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    await signOutIfSignedIn();
  });

  test('amazon-cognito-identity-js: a legacy user migrated at the first sign-in then signs in with SRP', async () => {
    const migrate = (event) => {
      if (event.userName === 'legacy-lee' && event.request.password === 'Legacy-pass-1') {
        event.response.userAttributes = { email: 'lee@legacy.example', email_verified: 'true' };
        event.response.finalUserStatus = 'CONFIRMED';
        event.response.messageAction = 'SUPPRESS';
      }
      return event;
    };
    const pool = await createPoolWithUser(server.admin, {
      poolName: 'migration',
      poolOptions: { LambdaConfig: { UserMigration: runtime.fn('node-migrate', migrate) } },
    });
    const legacy = { ...pool, username: 'legacy-lee', password: 'Legacy-pass-1' };
    const first = identityJsClient(server, legacy).newUser();
    first.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    const migrated = await authenticate(first, legacy.username, legacy.password);
    assert.equal(migrated.kind, 'success');
    assert.equal(migrated.session.getIdToken().decodePayload().email, 'lee@legacy.example');
    assert.equal(runtime.events('node-migrate').length, 1);
    // The pool knows the user now: the default SRP flow, with the same password, no migration.
    const again = await authenticate(identityJsClient(server, legacy).newUser(), legacy.username, legacy.password);
    assert.equal(again.kind, 'success');
    assert.equal(again.session.getAccessToken().decodePayload().username, 'legacy-lee');
    assert.equal(runtime.events('node-migrate').length, 1);
  });

  test('aws-jwt-verify: the claim PreTokenGeneration V2_0 adds is in both verified tokens', async () => {
    const { session } = await authenticate(identityJsClient(server, fixture).newUser(), fixture.username,
      fixture.password);
    for (const [tokenUse, token] of [['id', session.getIdToken().getJwtToken()],
      ['access', session.getAccessToken().getJwtToken()]]) {
      const verifier = JwtVerifier.create({
        issuer: server.issuer(fixture.poolId),
        jwksUri: server.jwksUrl(fixture.poolId),
        audience: tokenUse === 'id' ? fixture.clientId : null,
        customJwtCheck: ({ payload }) => validateCognitoJwtFields(payload, { tokenUse, clientId: fixture.clientId }),
      }, { jwksCache: new SimpleJwksCache({ fetcher: new HttpFetcher() }) });
      const payload = await verifier.verify(token);
      assert.equal(payload.tenant, 'acme', `${tokenUse} token`);
    }
    const sources = runtime.events('node-tokens').map((e) => e.triggerSource);
    assert.equal(sources.at(-1), 'TokenGeneration_Authentication');
  });
});
