// A real OpenID provider for the test suite: the certified `oidc-provider` package, on 127.0.0.1 only.
//
//   node tests/oidc/provider.mjs [--port N] [--config FILE] [--exit-with-stdin]
//   (or env OIDC_PORT, OIDC_CONFIG)
//
// Port 0 (the default) lets the OS choose a free port. The issuer is http://127.0.0.1:<port>; once the
// server listens, one line `READY <issuer>` is printed to stdout (oidc-provider's own notices may come
// before it). The JSON config file, written by tests/oidc/peer.py, holds:
//
//   { "clients":  [ <client metadata: client_id, client_secret, redirect_uris, ...> ],
//     "accounts": [ { "sub": "amy", "email": "...", "name": "...", "groups": ["..."] } ] }
//
// Sign-in is oidc-provider's built-in development page (devInteractions): the login is the account's
// sub and any password is accepted. Nothing is persisted: keys, sessions and grants live in memory.
// With --exit-with-stdin it stops when its stdin closes, so it never outlives the test process that
// started it, even one that is killed.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, config: { type: 'string' }, 'exit-with-stdin': { type: 'boolean' } },
});
const port = Number(args.port ?? process.env.OIDC_PORT ?? 0);
const configPath = args.config ?? process.env.OIDC_CONFIG;
if (!configPath) {
  console.error('usage: node provider.mjs --port N --config FILE (or env OIDC_PORT, OIDC_CONFIG)');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const accounts = new Map((config.accounts ?? []).map((account) => [account.sub, account]));

// Defaults for every test client: a confidential web client using the authorization code flow.
const clientDefaults = {
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code'],
  response_types: ['code'],
};

const configuration = {
  clients: (config.clients ?? []).map((client) => ({ ...clientDefaults, ...client })),

  // A fresh RS256 signing key per run (published at the jwks_uri), so no key is committed.
  jwks: {
    keys: [{
      ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
      use: 'sig',
      alg: 'RS256',
      kid: 'test-signing-key',
    }],
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },

  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined; // an unknown login on the dev page fails the sign-in
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: account.email !== undefined,
          name: account.name,
          groups: account.groups ?? [],
        };
      },
    };
  },

  // Which claims each scope releases; `groups` is a scope of its own, asked for by the relying party.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Put the scopes' claims in the ID token too (not only at the userinfo endpoint), so the relying
  // party reads email, name and groups from the ID token alone.
  conformIdTokenClaims: false,

  pkce: { required: () => true }, // every client must send an S256 code_challenge

  // oidc-provider refuses outgoing requests (back-channel logout) to loopback and private addresses, as a
  // guard against SSRF. The test relying parties listen on 127.0.0.1, so drop that guard here (test use only).
  fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),

  features: {
    devInteractions: { enabled: true }, // the built-in login and consent pages (test use only)
    rpInitiatedLogout: { enabled: true }, // end_session_endpoint
    backchannelLogout: { enabled: true }, // clients may register a backchannel_logout_uri
  },
};

// Listen first so that port 0 resolves to the real port, then build the provider with that issuer.
const server = createServer();
server.listen(port, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  // Plain http on loopback: the provider is not behind a TLS-terminating proxy.
  provider.proxy = false;
  // Errors a test would otherwise never see go to stderr (peer.py quotes it when the start fails).
  provider.on('server_error', (ctx, error) => console.error('oidc-provider server_error:', error));
  provider.on('backchannel.error', (ctx, error, client) => {
    console.error('backchannel logout to', client.clientId, 'failed:', error);
  });
  // Static clients are otherwise validated on first use; a bad test config should fail the start instead.
  try {
    await Promise.all(configuration.clients.map((client) => provider.Client.find(client.client_id)));
  } catch (error) {
    console.error('invalid client in', configPath, '-', error.error_description ?? error.message);
    process.exit(1);
  }
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
if (args['exit-with-stdin']) {
  process.stdin.on('end', () => process.exit(0)).resume();
}
