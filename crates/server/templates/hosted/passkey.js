// The hosted passkey page (docs/passkeys.md): the WEB_AUTHN challenge's request options given to
// navigator.credentials.get, and the assertion posted back in the form Amplify writes it
// (AuthenticationResponseJSON, binary fields as base64url without padding). The pages allow no
// inline script, so this is served from /_gatehouse/hosted/passkey.js.
(() => {
  const holder = document.getElementById('passkey-options');
  if (!holder) return;
  const form = holder.closest('form');
  const failed = document.getElementById('passkey-error');
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const unb64 = (s) => Uint8Array.from(
    atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));

  const ask = async () => {
    failed.hidden = true;
    try {
      const o = JSON.parse(holder.dataset.options);
      o.challenge = unb64(o.challenge);
      o.allowCredentials = (o.allowCredentials || []).map((c) => ({ ...c, id: unb64(c.id) }));
      const a = await navigator.credentials.get({ publicKey: o });
      form.elements.credential.value = JSON.stringify({
        id: a.id,
        rawId: b64(a.rawId),
        type: a.type,
        authenticatorAttachment: a.authenticatorAttachment || undefined,
        clientExtensionResults: a.getClientExtensionResults(),
        response: {
          clientDataJSON: b64(a.response.clientDataJSON),
          authenticatorData: b64(a.response.authenticatorData),
          signature: b64(a.response.signature),
          userHandle: a.response.userHandle ? b64(a.response.userHandle) : undefined,
        },
      });
      form.submit();
    } catch (e) {
      failed.hidden = false;
    }
  };
  // "Continue" asks again after a refusal or a cancelled prompt. A page showing the server's
  // refusal waits for it: asking at once could repeat a refused assertion into the lockout.
  form.addEventListener('submit', (event) => {
    if (!form.elements.credential.value) {
      event.preventDefault();
      ask();
    }
  });
  if (!holder.dataset.retry) ask();
})();
