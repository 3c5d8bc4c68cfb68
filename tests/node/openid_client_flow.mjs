// A server-side web app using openid-client (unmodified), configured from the issuer URL alone,
// as a confidential client (client_secret_basic). Driven by tests/python/test_oauth_browser.py:
//   stdin {"step": "start", issuer, clientId, clientSecret, redirectUri}
//     -> stdout {url, verifier, state, nonce}
//   stdin {"step": "finish", ..., callbackUrl, verifier, state, nonce}
//     -> stdout {idClaims, accessToken, refreshToken, userInfo, refreshed}
import * as client from 'openid-client';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (c) => { data += c; });
  process.stdin.on('end', () => resolve(data));
}));

// Tests run on plain http at 127.0.0.1; production issuers are https.
const config = await client.discovery(new URL(input.issuer), input.clientId,
  undefined, client.ClientSecretBasic(input.clientSecret), { execute: [client.allowInsecureRequests] });

if (input.step === 'start') {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: input.redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  process.stdout.write(JSON.stringify({ url: url.href, verifier, state, nonce }));
} else {
  const tokens = await client.authorizationCodeGrant(config, new URL(input.callbackUrl), {
    pkceCodeVerifier: input.verifier,
    expectedState: input.state,
    expectedNonce: input.nonce,
  });
  const idClaims = tokens.claims();
  const userInfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  process.stdout.write(JSON.stringify({
    idClaims,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    userInfo,
    refreshed: { idClaims: refreshed.claims(), accessToken: refreshed.access_token },
  }));
}
