// One sign-in by amazon-cognito-identity-js, unmodified, for a test in another language (the
// console's browser tests, tests/python/test_console_devices.py): USER_SRP_AUTH, and on a pool
// that remembers devices the library's own ConfirmDevice (and, on a User Opt-In pool, its
// setDeviceStatusRemembered). The library keeps the device key and secret in its storage, which
// the caller keeps between runs, as a browser's localStorage would be kept.
//
// stdin: {"endpoint", "poolId", "clientId", "username", "password", "storage": {key: value}}
// stdout: {"operations": ["InitiateAuth 200", ...], "newDevice": bool, "deviceSrp": bool,
//          "deviceName": the ConfirmDevice DeviceName or null, "deviceKey": stored key or null,
//          "storage": {key: value}}

import { readFileSync } from 'node:fs';

import identityJs from 'amazon-cognito-identity-js';

import { MemoryStorage, authenticate, callback, recordClientExchanges } from './server.mjs';

const { CognitoUser, CognitoUserPool } = identityJs;

const input = JSON.parse(readFileSync(0, 'utf8'));
const storage = new MemoryStorage();
for (const [k, v] of Object.entries(input.storage ?? {})) storage.setItem(k, v);
const { mark, since, callsSince } = recordClientExchanges();

const pool = new CognitoUserPool({
  UserPoolId: input.poolId,
  ClientId: input.clientId,
  endpoint: `${input.endpoint}/`,
  Storage: storage,
});
const user = new CognitoUser({ Username: input.username, Pool: pool, Storage: storage });
const start = mark();
const result = await authenticate(user, input.username, input.password);
if (result.userConfirmationNecessary) {
  await callback(user, 'setDeviceStatusRemembered');
}
const exchanges = since(start);
const confirm = exchanges.find((e) => e.operation === 'ConfirmDevice');
const prefix = `CognitoIdentityServiceProvider.${input.clientId}.${input.username}`;
process.stdout.write(JSON.stringify({
  operations: callsSince(start),
  newDevice: exchanges.some((e) => e.body?.AuthenticationResult?.NewDeviceMetadata),
  deviceSrp: exchanges.some((e) => e.body?.ChallengeName === 'DEVICE_SRP_AUTH'),
  deviceName: confirm?.request?.DeviceName ?? null,
  deviceKey: storage.getItem(`${prefix}.deviceKey`),
  storage: Object.fromEntries(storage.items),
}));
