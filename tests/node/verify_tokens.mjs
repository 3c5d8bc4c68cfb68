// aws-jwt-verify (unmodified) checks tokens a test got elsewhere (the hosted pages through
// oidc-client-ts): stdin {issuer, jwksUri, clientId, idToken, accessToken} -> stdout {id, access},
// the verified payloads. CognitoJwtVerifier wants an AWS issuer URL, so the generic JwtVerifier
// is used with Gatehouse's issuer, as tests/node/jwt-verify.test.mjs does.
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';

// The library's default fetcher speaks HTTPS only; the test server is plain HTTP (the same
// documented Fetcher interface as jwt-verify.test.mjs).
class HttpFetcher {
  async fetch(uri) {
    const resp = await fetch(uri, { signal: AbortSignal.timeout(5000) });
    if (resp.status !== 200) throw new Error(`JWKS: status ${resp.status}`);
    return resp.arrayBuffer();
  }
}
const jwksCache = () => new SimpleJwksCache({ fetcher: new HttpFetcher() });

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (c) => { data += c; });
  process.stdin.on('end', () => resolve(data));
}));

const idVerifier = JwtVerifier.create({
  issuer: input.issuer, jwksUri: input.jwksUri, audience: input.clientId,
  customJwtCheck: ({ payload }) => { if (payload.token_use !== 'id') throw new Error('not an ID token'); },
}, { jwksCache: jwksCache() });
const accessVerifier = JwtVerifier.create({
  issuer: input.issuer, jwksUri: input.jwksUri, audience: null,
  customJwtCheck: ({ payload }) => {
    if (payload.token_use !== 'access') throw new Error('not an access token');
    if (payload.client_id !== input.clientId) throw new Error('another client');
  },
}, { jwksCache: jwksCache() });
const id = await idVerifier.verify(input.idToken);
const access = await accessVerifier.verify(input.accessToken);
process.stdout.write(JSON.stringify({ id, access }));
