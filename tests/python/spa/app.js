// The single-page app of tests/python/test_oauth_browser.py: oidc-client-ts (unmodified) with the
// issuer and client id the test gives in ?authority=&client_id= on the first page, kept in
// sessionStorage. The test drives it through window.app.
const params = new URLSearchParams(location.search);
if (params.get('authority')) {
  sessionStorage.setItem('cfg', JSON.stringify({ authority: params.get('authority'), client_id: params.get('client_id') }));
}
const cfg = JSON.parse(sessionStorage.getItem('cfg') || '{}');
const origin = location.origin;
const mgr = new oidc.UserManager({
  authority: cfg.authority,
  client_id: cfg.client_id,
  redirect_uri: `${origin}/callback.html`,
  post_logout_redirect_uri: `${origin}/signed-out.html`,
  response_type: 'code',
  scope: 'openid email profile',
  loadUserInfo: true,
  userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
});
const status = document.getElementById('status');
window.app = {
  mgr,
  signIn: () => mgr.signinRedirect({ state: { from: 'test' } }),
  user: () => mgr.getUser(),
  refresh: () => mgr.signinSilent(),
  signOut: () => mgr.signoutRedirect(),
  ready: Promise.resolve(null),
};
if (location.pathname.endsWith('/callback.html')) {
  window.app.ready = mgr.signinRedirectCallback().then((user) => {
    status.textContent = `signed in as ${user.profile['cognito:username'] || user.profile.sub}`;
    return user;
  }, (e) => { status.textContent = `error: ${e.message}`; throw e; });
} else if (location.pathname.endsWith('/signed-out.html')) {
  status.textContent = 'signed out';
} else {
  status.textContent = 'ready';
}
