// The portal's passkeys (WebAuthn): create one from an invitation, or sign in with one.
// The options come from the server (py_webauthn's JSON); binary fields travel as base64url.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("passkey-status");

  function toBytes(b64url) {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  }

  function toB64url(buffer) {
    let raw = "";
    new Uint8Array(buffer).forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json();
    if (!response.ok) {
      throw new Error(data.detail || data.title || "the registry refused");
    }
    return data;
  }

  function say(text) {
    if (status) { status.textContent = text; }
  }

  async function register(invitation) {
    say("Creating your passkey…");
    const options = await post("/portal/passkeys/register/options", { invitation });
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    const credential = await navigator.credentials.create({ publicKey: options });
    const result = await post("/portal/passkeys/register", {
      invitation,
      credential: {
        id: credential.id,
        rawId: toB64url(credential.rawId),
        type: credential.type,
        response: {
          clientDataJSON: toB64url(credential.response.clientDataJSON),
          attestationObject: toB64url(credential.response.attestationObject),
          transports: credential.response.getTransports ? credential.response.getTransports() : [],
        },
        clientExtensionResults: credential.getClientExtensionResults(),
        authenticatorAttachment: credential.authenticatorAttachment,
      },
    });
    window.location.assign(result.redirect);
  }

  async function signIn() {
    say("Waiting for your passkey…");
    const options = await post("/portal/passkeys/signin/options");
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    const credential = await navigator.credentials.get({ publicKey: options });
    const response = credential.response;
    const result = await post("/portal/passkeys/signin", {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toB64url(response.clientDataJSON),
        authenticatorData: toB64url(response.authenticatorData),
        signature: toB64url(response.signature),
        userHandle: response.userHandle ? toB64url(response.userHandle) : null,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment,
    });
    window.location.assign(result.redirect);
  }

  function wire(id, action) {
    const button = document.getElementById(id);
    if (!button) { return; }
    button.addEventListener("click", () => {
      button.disabled = true;
      action(button).catch((error) => {
        say("That did not work: " + error.message);
        button.disabled = false;
      });
    });
  }

  wire("register-button", (button) => register(button.dataset.invitation));
  wire("signin-button", () => signIn());

  // Forms that change something ask first (revoke, suspend, decline).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
