// aws-jwt-verify (from npm, unmodified) verifies the tokens a Gatehouse server issues, against the
// pool's JWKS, and rejects the wrong ones.
//
// CognitoJwtVerifier derives issuer and JWKS URI from the AWS region URL, so this uses the
// library's generic JwtVerifier with the Gatehouse issuer `{url}/{poolId}` and JWKS URI, plus the
// library's own Cognito checks (validateCognitoJwtFields: token_use and client_id / aud).
// The library's default fetcher speaks HTTPS only (node:https), and the test server is plain
// HTTP, so the JWKS cache is given a fetcher (the library's documented Fetcher interface) that
// GETs with Node's fetch.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync } from 'node:crypto';

import { JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import {
  CognitoJwtInvalidTokenUseError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidScopeError,
  JwtInvalidSignatureError,
  KidNotFoundInJwksError,
  NonRetryableFetchError,
} from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';

import {
  GatehouseServer,
  assertOk,
  authenticate,
  createPoolWithUser,
  decodeJwt,
  identityJsClient,
} from './server.mjs';

/** A Fetcher for SimpleJwksCache over plain HTTP; answers other than 200 are not retried. */
class HttpFetcher {
  async fetch(uri) {
    const resp = await fetch(uri, { signal: AbortSignal.timeout(5000) });
    if (resp.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${resp.status}, expected 200`);
    }
    return resp.arrayBuffer();
  }
}

const newJwksCache = () => new SimpleJwksCache({ fetcher: new HttpFetcher() });

/** A verifier for one pool and client; tokenUse 'id' or 'access'. */
function verifierFor(server, { poolId, clientId }, tokenUse, {
  checkAudience = true,
  checkScope = true,
  jwksPoolId = poolId,
} = {}) {
  return JwtVerifier.create(
    {
      issuer: server.issuer(poolId),
      jwksUri: server.jwksUrl(jwksPoolId),
      // ID tokens: the library's audience check (aud = client id). Access tokens have no aud.
      audience: tokenUse === 'id' && checkAudience ? clientId : null,
      ...(tokenUse === 'access' && checkScope ? { scope: 'aws.cognito.signin.user.admin' } : {}),
      customJwtCheck: ({ payload }) => validateCognitoJwtFields(payload, { tokenUse, clientId }),
    },
    { jwksCache: newJwksCache() },
  );
}

/** SRP sign-in with amazon-cognito-identity-js; the three tokens as strings. */
async function srpSignIn(server, fixture) {
  const { session } = await authenticate(identityJsClient(server, fixture).newUser(), fixture.username, fixture.password);
  return {
    accessToken: session.getAccessToken().getJwtToken(),
    idToken: session.getIdToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
  };
}

/** The same token with one character of one claim's value changed (signature kept). */
function editClaim(token, claim) {
  const [header, payload, signature] = token.split('.');
  const json = Buffer.from(payload, 'base64url').toString('utf8');
  const value = JSON.parse(json)[claim];
  assert.equal(typeof value, 'string', `${claim} is not a string claim`);
  const last = value.at(-1);
  const edited = value.slice(0, -1) + (last === 'a' ? 'b' : 'a');
  const editedJson = json.replace(JSON.stringify(value), JSON.stringify(edited));
  assert.notEqual(editedJson, json);
  assert.equal(editedJson.length, json.length, 'exactly one character changed');
  return [header, Buffer.from(editedJson, 'utf8').toString('base64url'), signature].join('.');
}

/** Re-sign a token's header and payload with a key of ours (same kid as the server's). */
function signWithOtherKey(token) {
  const [header, payload] = token.split('.');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey, 'base64url');
  return `${header}.${payload}.${signature}`;
}

describe('aws-jwt-verify 5', () => {
  let server;
  let poolA;
  let poolB;
  let tokensA;
  let tokensB;

  before(async () => {
    server = await GatehouseServer.start();
    poolA = await createPoolWithUser(server.admin, {
      poolName: 'jwt-a',
      username: 'carol',
      attributes: { email: 'carol@example.com', email_verified: 'true' },
    });
    poolB = await createPoolWithUser(server.admin, {
      poolName: 'jwt-b',
      username: 'carol',
      attributes: { email: 'carol@example.org', email_verified: 'true' },
    });
    // Pool A: tokens from a real SRP sign-in (amazon-cognito-identity-js).
    tokensA = await srpSignIn(server, poolA);
    // Pool B: tokens from USER_PASSWORD_AUTH.
    const resp = assertOk(await server.call('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: poolB.clientId,
      AuthParameters: { USERNAME: 'carol', PASSWORD: poolB.password },
    }));
    tokensB = { accessToken: resp.AuthenticationResult.AccessToken, idToken: resp.AuthenticationResult.IdToken };
  });

  after(async () => {
    await server?.stop();
  });

  test('the discovery document and JWKS name the issuer and the RS256 signing keys', async () => {
    const discovery = await (await fetch(`${server.issuer(poolA.poolId)}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, server.issuer(poolA.poolId));
    assert.equal(discovery.jwks_uri, server.jwksUrl(poolA.poolId));

    const resp = await fetch(server.jwksUrl(poolA.poolId));
    assert.equal(resp.status, 200);
    const jwks = await resp.json();
    assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1, JSON.stringify(jwks));
    for (const key of jwks.keys) {
      assert.equal(key.kty, 'RSA');
      assert.equal(key.alg, 'RS256');
      assert.equal(key.use, 'sig');
      assert.equal(typeof key.kid, 'string');
      assert.equal(key.e, 'AQAB');
      assert.ok(Buffer.from(key.n, 'base64url').length >= 256, 'RSA key shorter than 2048 bits');
      assert.equal(key.d, undefined, 'private key material in the JWKS');
    }
    const kids = jwks.keys.map((k) => k.kid);
    assert.ok(kids.includes(decodeJwt(tokensA.idToken).header.kid), 'ID token kid not in JWKS');
    assert.ok(kids.includes(decodeJwt(tokensA.accessToken).header.kid), 'access token kid not in JWKS');
  });

  test('an unknown pool has no JWKS', async () => {
    const resp = await fetch(server.jwksUrl('us-east-1_NoSuchPol'));
    assert.notEqual(resp.status, 200);
  });

  test('verifies the ID token: signature, issuer, audience, token_use', async () => {
    const payload = await verifierFor(server, poolA, 'id').verify(tokensA.idToken);
    assert.equal(payload.token_use, 'id');
    assert.equal(payload.aud, poolA.clientId);
    assert.equal(payload.iss, server.issuer(poolA.poolId));
    assert.equal(payload['cognito:username'], 'carol');
    assert.equal(payload.email, 'carol@example.com');
  });

  test('verifies the access token: signature, issuer, client_id, token_use, scope', async () => {
    const payload = await verifierFor(server, poolA, 'access').verify(tokensA.accessToken);
    assert.equal(payload.token_use, 'access');
    assert.equal(payload.client_id, poolA.clientId);
    assert.equal(payload.iss, server.issuer(poolA.poolId));
    assert.equal(payload.username, 'carol');
    assert.equal(payload.scope, 'aws.cognito.signin.user.admin');
  });

  test('verifies the tokens issued on refresh (REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken)', async () => {
    const viaInitiate = assertOk(await server.call('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: poolA.clientId,
      AuthParameters: { REFRESH_TOKEN: tokensA.refreshToken },
    })).AuthenticationResult;
    const viaGetTokens = assertOk(await server.call('GetTokensFromRefreshToken', {
      ClientId: poolA.clientId,
      RefreshToken: tokensA.refreshToken,
    })).AuthenticationResult;
    for (const result of [viaInitiate, viaGetTokens]) {
      const id = await verifierFor(server, poolA, 'id').verify(result.IdToken);
      assert.equal(id['cognito:username'], 'carol');
      const access = await verifierFor(server, poolA, 'access').verify(result.AccessToken);
      assert.equal(access.username, 'carol');
      assert.notEqual(access.jti, decodeJwt(tokensA.accessToken).payload.jti);
    }
  });

  test('verifies the tokens of a second pool with that pool\'s verifiers', async () => {
    assert.equal((await verifierFor(server, poolB, 'id').verify(tokensB.idToken)).email, 'carol@example.org');
    assert.equal((await verifierFor(server, poolB, 'access').verify(tokensB.accessToken)).client_id, poolB.clientId);
  });

  test('rejects an access token where an ID token is expected (and the reverse)', async () => {
    // With the audience check: an access token has no aud.
    await assert.rejects(verifierFor(server, poolA, 'id').verify(tokensA.accessToken), JwtInvalidAudienceError);
    // token_use alone.
    await assert.rejects(
      verifierFor(server, poolA, 'id', { checkAudience: false }).verify(tokensA.accessToken),
      CognitoJwtInvalidTokenUseError,
    );
    // An ID token where an access token is expected: no scope claim, and token_use alone.
    await assert.rejects(verifierFor(server, poolA, 'access').verify(tokensA.idToken), JwtInvalidScopeError);
    await assert.rejects(
      verifierFor(server, poolA, 'access', { checkScope: false }).verify(tokensA.idToken),
      CognitoJwtInvalidTokenUseError,
    );
  });

  test('rejects a token with one payload character changed', async () => {
    await assert.rejects(
      verifierFor(server, poolA, 'id').verify(editClaim(tokensA.idToken, 'cognito:username')),
      JwtInvalidSignatureError,
    );
    await assert.rejects(
      verifierFor(server, poolA, 'access').verify(editClaim(tokensA.accessToken, 'sub')),
      JwtInvalidSignatureError,
    );
  });

  test('rejects a token signed with another key under the server\'s kid', async () => {
    await assert.rejects(
      verifierFor(server, poolA, 'id').verify(signWithOtherKey(tokensA.idToken)),
      JwtInvalidSignatureError,
    );
  });

  test('rejects a token from another pool', async () => {
    // Pool A's verifiers: pool B's key is not in pool A's JWKS.
    await assert.rejects(verifierFor(server, poolA, 'id').verify(tokensB.idToken), KidNotFoundInJwksError);
    await assert.rejects(verifierFor(server, poolA, 'access').verify(tokensB.accessToken), KidNotFoundInJwksError);
    // Even with pool B's keys at hand, the issuer (pool A's) does not match.
    const issuerOnly = { poolId: poolA.poolId, clientId: poolB.clientId };
    await assert.rejects(
      verifierFor(server, issuerOnly, 'id', { jwksPoolId: poolB.poolId }).verify(tokensB.idToken),
      JwtInvalidIssuerError,
    );
    await assert.rejects(
      verifierFor(server, issuerOnly, 'access', { jwksPoolId: poolB.poolId }).verify(tokensB.accessToken),
      JwtInvalidIssuerError,
    );
  });

  test('each pool signs with its own keys: pool B\'s token is not in pool A\'s JWKS', async () => {
    // Issuer and client of pool B, but the JWKS of pool A.
    await assert.rejects(
      verifierFor(server, poolB, 'id', { jwksPoolId: poolA.poolId }).verify(tokensB.idToken),
      KidNotFoundInJwksError,
    );
  });
});
