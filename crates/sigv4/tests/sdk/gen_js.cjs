// Capture cognito-idp requests exactly as the AWS SDK for JavaScript v3 signs them.
//
// Regenerate (nothing is sent; a request handler records the signed request):
//   npm install --prefix /tmp/jsgen @aws-sdk/client-cognito-identity-provider
//   NODE_PATH=/tmp/jsgen/node_modules node tests/sdk/gen_js.cjs > tests/sdk/js-v3.json
const {
  CognitoIdentityProviderClient,
  AdminGetUserCommand,
  AdminCreateUserCommand,
  ListUsersCommand,
  DescribeUserPoolCommand,
} = require("@aws-sdk/client-cognito-identity-provider");
const pkg = require("@aws-sdk/client-cognito-identity-provider/package.json");

const AKID = "AKIDEXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example==";

async function capture(name, command, { region = "us-east-1", endpoint, token } = {}) {
  let seen;
  const client = new CognitoIdentityProviderClient({
    region,
    endpoint,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: token },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request) => {
        seen = request;
        throw new Error("captured");
      },
    },
  });
  try {
    await client.send(command);
  } catch (e) {
    if (!seen) throw e;
  }
  // The HTTP layer sends Host from the endpoint: hostname, plus the port when not default.
  const headers = Object.entries(seen.headers);
  if (!headers.some(([k]) => k.toLowerCase() === "host")) {
    headers.unshift(["host", seen.port ? `${seen.hostname}:${seen.port}` : seen.hostname]);
  }
  const query = new URLSearchParams(seen.query || {}).toString();
  return {
    name,
    sdk: `aws-sdk-js-v3 client-cognito-identity-provider ${pkg.version}`,
    region,
    token: token ?? null,
    method: seen.method,
    path: seen.path,
    query,
    headers,
    body_hex: Buffer.from(seen.body ?? "").toString("hex"),
  };
}

(async () => {
  const cases = [
    await capture("admin-get-user", new AdminGetUserCommand({ UserPoolId: "us-east-1_EXAMPLE", Username: "alice" })),
    await capture(
      "admin-create-user-unicode",
      new AdminCreateUserCommand({
        UserPoolId: "us-east-1_EXAMPLE",
        Username: "zoë",
        UserAttributes: [{ Name: "name", Value: "Zoë  Ünïcødé \u2603" }],
      }),
    ),
    await capture("list-users-local-endpoint", new ListUsersCommand({ UserPoolId: "eu-west-1_EXAMPLE", Limit: 5 }), {
      region: "eu-west-1",
      endpoint: "http://localhost:9229",
    }),
    await capture("describe-user-pool-session-token", new DescribeUserPoolCommand({ UserPoolId: "us-east-1_EXAMPLE" }), {
      token: TOKEN,
    }),
  ];
  process.stdout.write(JSON.stringify({ akid: AKID, secret: SECRET, cases }, null, 1) + "\n");
})();
