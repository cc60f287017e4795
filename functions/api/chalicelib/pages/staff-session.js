// The staff pages' sign-in, shared by /warehouse, /finance and /ops (inlined into each by pages.py).
//
// Deployed: Cognito managed login, authorization code + PKCE (a public client: the page holds no
// secret, the verifier proves the code is redeemed by the page that asked for it). Locally: the
// local stack's own sign-in (/_local/sign-in, name + role) speaks the same protocol, so this one
// flow runs in both. Tokens live in sessionStorage: this tab only, gone when it closes.
//
// The page reads: staffSession.ready (a promise of who is signed in, with the role this page
// wants), staffSession.fetch(path, init) (the API with the access token; refreshes once on 401),
// staffSession.signOut().
(function () {
  "use strict";
  const CONFIG = JSON.parse(document.getElementById("staff-sign-in").textContent);
  const BASE = location.pathname.replace(/\/[^/]*$/, "");
  const SESSION_KEY = "returns.staff-session";
  const PENDING_KEY = "returns.staff-sign-in";
  const REFRESH_LEAD_SECONDS = 120;          // refresh this long before the access token expires
  const ROLE_NAMES = { warehouse: "warehouse", finance: "finance", ops: "ops / customer service", store: "store" };
  const HOME_PAGES = { store: "policy" };    // a role's own page, when it is not named after the role
  const domain = CONFIG.mode === "local" ? location.origin + BASE + "/_local/sign-in" : CONFIG.domain;
  const redirectUri = CONFIG.redirect_uri || location.origin + location.pathname;

  // --- PKCE (RFC 7636): verifier = 32 random bytes, challenge = base64url(sha256(verifier)) ----------
  function base64url(bytes) {
    let text = "";
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function randomString() { return base64url(crypto.getRandomValues(new Uint8Array(32))); }
  async function challengeOf(verifier) {
    return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  }

  function claimsOf(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
    } catch (err) { return {}; }
  }
  // The API's reading of a token (edge/auth.py): a local token names its role; a Cognito one has
  // exactly one staff group.
  function whoIs(accessToken) {
    const c = claimsOf(accessToken);
    const groups = (c["cognito:groups"] || []).filter((g) => g in ROLE_NAMES);
    return { name: c.username || c.sub || "?", role: c.role || (groups.length === 1 ? groups[0] : null),
             expires_at: c.exp || 0 };
  }

  function load(key) { try { return JSON.parse(sessionStorage.getItem(key)); } catch (err) { return null; } }
  function save(key, value) { sessionStorage.setItem(key, JSON.stringify(value)); }
  function forget() { sessionStorage.removeItem(SESSION_KEY); }

  async function tokenRequest(fields) {
    const res = await fetch(domain + "/oauth2/token", {
      method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(Object.assign({ client_id: CONFIG.client_id }, fields)).toString() });
    let data = null;
    try { data = await res.json(); } catch (err) { data = null; }
    if (!res.ok || !data || !data.access_token) {
      throw new Error((data && (data.error_description || data.error)) || ("the sign-in service answered " + res.status));
    }
    return data;
  }
  function keep(tokens, previous) {
    const session = { access_token: tokens.access_token,
                      // a refresh grant answers without a new refresh token: keep the one we have
                      refresh_token: tokens.refresh_token || (previous && previous.refresh_token) || null,
                      expires_at: Math.floor(Date.now() / 1000) + (tokens.expires_in || 3600) };
    save(SESSION_KEY, session);
    schedule(session);
    return session;
  }

  let refreshTimer = null;
  let refreshing = null;
  function schedule(session) {
    clearTimeout(refreshTimer);
    if (!session.refresh_token) return;
    const wait = Math.max(0, session.expires_at - REFRESH_LEAD_SECONDS - Date.now() / 1000);
    refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, wait * 1000);
  }
  function refresh() {
    const current = load(SESSION_KEY);
    if (!current || !current.refresh_token) return Promise.reject(new Error("no refresh token"));
    if (!refreshing) {
      refreshing = tokenRequest({ grant_type: "refresh_token", refresh_token: current.refresh_token })
        .then((tokens) => keep(tokens, current))
        .finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  // No session: off to the sign-in, remembering the verifier and state for the way back.
  async function signIn() {
    if (CONFIG.redirect_uri && location.origin + location.pathname !== CONFIG.redirect_uri) {
      location.replace(CONFIG.redirect_uri);     // the sign-in only returns to the page's public address
      return new Promise(() => {});
    }
    const pending = { state: randomString(), verifier: randomString() };
    save(PENDING_KEY, pending);
    const query = new URLSearchParams({
      response_type: "code", client_id: CONFIG.client_id, redirect_uri: redirectUri,
      scope: "openid email profile", state: pending.state,
      code_challenge: await challengeOf(pending.verifier), code_challenge_method: "S256" });
    if (CONFIG.mode === "local") query.set("role", CONFIG.roles[0]);   // the local form's default
    location.assign(domain + "/oauth2/authorize?" + query.toString());
    return new Promise(() => {});                // the page is leaving
  }

  // Back from the sign-in with ?code=&state= (or ?error=): redeem the code once, then tidy the URL.
  async function completeSignIn(params) {
    const pending = load(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    history.replaceState(null, "", location.pathname);
    if (params.get("error")) throw new Error(params.get("error_description") || params.get("error"));
    if (!pending || params.get("state") !== pending.state) {
      throw new Error("this sign-in was not started from this tab; sign in again");
    }
    return keep(await tokenRequest({ grant_type: "authorization_code", code: params.get("code"),
                                     redirect_uri: redirectUri, code_verifier: pending.verifier }), null);
  }

  async function signOut() {
    const session = load(SESSION_KEY);
    forget();
    clearTimeout(refreshTimer);
    if (session && session.refresh_token) {
      // Revoking the refresh token ends the session everywhere it was copied, not only in this tab.
      try {
        await fetch(domain + "/oauth2/revoke", { method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token: session.refresh_token, client_id: CONFIG.client_id }).toString() });
      } catch (err) { /* signing out goes on: the tokens are gone from this tab */ }
    }
    location.assign(domain + "/logout?" + new URLSearchParams({ client_id: CONFIG.client_id, logout_uri: redirectUri }));
  }

  async function apiFetch(path, init) {
    const attempt = async () => {
      const session = load(SESSION_KEY) || {};
      const headers = Object.assign({}, (init && init.headers) || {}, { Authorization: "Bearer " + (session.access_token || "") });
      return fetch(BASE + path, Object.assign({}, init || {}, { headers: headers }));
    };
    let res = await attempt();
    if (res.status === 401) {
      try { await refresh(); res = await attempt(); } catch (err) { /* the answer below says so */ }
      if (res.status === 401) { forget(); signIn(); }
    }
    return res;
  }

  // --- the bar: who is signed in, and the way out --------------------------------------------------
  const style = document.createElement("style");
  style.textContent =
    "#staff-bar { display:flex; gap:12px; align-items:center; flex-wrap:wrap; font-size:14px; }" +
    "#staff-bar #who { color:var(--muted, #5f6672); }" +
    "#sign-in-notice { margin:24px; max-width:640px; background:#fff; border:1px solid var(--line, #e4e2dc);" +
    " border-radius:8px; padding:20px 24px; }" +
    "#sign-in-notice h2 { margin:0 0 8px; font-size:18px; }" +
    "#sign-in-notice .actions { display:flex; gap:8px; flex-wrap:wrap; margin-bottom:0; }";
  document.head.appendChild(style);
  function bar() {
    let el = document.getElementById("staff-bar");
    if (!el) {
      el = document.createElement("div");
      el.id = "staff-bar";
      (document.querySelector("header") || document.body).appendChild(el);
    }
    return el;
  }
  function showSignedIn(who) {
    const el = bar();
    el.textContent = "";
    const name = document.createElement("span");
    name.id = "who";
    name.textContent = "Signed in as " + who.name + " (" + (ROLE_NAMES[who.role] || who.role || "no staff role") + ")";
    const out = document.createElement("button");
    out.type = "button"; out.id = "sign-out"; out.className = "secondary"; out.textContent = "Sign out";
    out.addEventListener("click", signOut);
    el.append(name, out);
  }
  function notice(title, text, actions) {
    // (the pages lay out <main> as a grid, which would win over the hidden attribute alone)
    document.querySelectorAll("body > main").forEach((n) => { n.hidden = true; n.style.display = "none"; });
    const box = document.createElement("section");
    box.id = "sign-in-notice";
    box.setAttribute("role", "alert");
    const h = document.createElement("h2"); h.textContent = title;
    const p = document.createElement("p"); p.textContent = text;
    box.append(h, p);
    const row = document.createElement("p"); row.className = "actions";
    for (const [label, action] of actions) {
      const b = document.createElement("button"); b.type = "button"; b.textContent = label;
      if (row.children.length) b.className = "secondary";
      b.addEventListener("click", action);
      row.appendChild(b);
    }
    box.appendChild(row);
    const main = document.querySelector("body > main");
    main ? main.before(box) : document.body.appendChild(box);
  }
  function again() { forget(); signIn(); }

  async function start() {
    if (CONFIG.mode !== "local" && CONFIG.mode !== "cognito") {
      notice("Staff sign-in is not set up", "This deployment has no staff sign-in configured. Ask whoever runs it.", []);
      return new Promise(() => {});
    }
    const params = new URLSearchParams(location.search);
    let session = load(SESSION_KEY);
    if (params.has("code") || params.has("error")) {
      try { session = await completeSignIn(params); } catch (err) {
        notice("Sign-in did not complete", err.message + ".", [["Sign in again", again]]);
        return new Promise(() => {});
      }
    }
    if (!session) return signIn();
    if (session.expires_at - Date.now() / 1000 < REFRESH_LEAD_SECONDS) {
      try { session = await refresh(); } catch (err) { return again(); }
    } else {
      schedule(session);
    }
    const who = whoIs(session.access_token);
    showSignedIn(who);
    if (!CONFIG.roles.includes(who.role)) {
      const wanted = CONFIG.roles.map((r) => ROLE_NAMES[r] || r).join(" or ");
      notice("This page is for " + wanted + " staff",
             "You are signed in as " + who.name + ", who is " + (who.role ? ROLE_NAMES[who.role] || who.role : "in no staff group") +
             " staff. Sign out and sign in as " + wanted + " staff to use this page.",
             [["Sign out", signOut]].concat(who.role in ROLE_NAMES
               ? [["Open the " + (HOME_PAGES[who.role] || who.role) + " page", () => location.assign(BASE + "/" + (HOME_PAGES[who.role] || who.role))]] : []));
      return new Promise(() => {});
    }
    return who;
  }

  window.staffSession = { ready: start(), fetch: apiFetch, signOut: signOut, pkce: { challengeOf: challengeOf } };
})();
