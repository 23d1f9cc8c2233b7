// StandInClient stands in for a Twilio SDK client (a Conversations
// Client, a Sync client, a Voice Device) in this example: it is made with a
// token, takes each new one through updateToken(token), and judges every
// token the way Twilio's servers would, so a test sees what the real SDK
// would have met. It records every updateToken in `calls` and every
// warning it fired in `fired`.
//
// A token is refused (updateToken rejects, and the call is recorded with
// its code) when it is not a Twilio Access Token (20101), is a token the
// client was given before (not fresh: the refresh code handed
// back a token it had handed before), is not yet valid (20105: minted by a server whose
// clock runs ahead) or has expired (20104).
export class StandInClient {
  #listeners = new Map();
  #timers = [];

  constructor(token) {
    // calls: one entry per token, {jti, iat, nbf, exp, at, ok, code, message}.
    this.calls = [];
    // fired: one entry per warning, {event, at}.
    this.fired = [];
    this.token = null;
    this.updateToken(token).catch(() => {});
  }

  // on registers a listener for "tokenAboutToExpire" (a third of the
  // token's life before its expiry, as the real SDKs warn ahead) or
  // "tokenExpired" (at its expiry, when the client can no longer act).
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, []);
    this.#listeners.get(event).push(listener);
    return this;
  }

  // updateToken takes a new token; it resolves when the token is accepted
  // and rejects with an Error carrying `code` when it is refused.
  updateToken(token) {
    const call = { at: Date.now(), ok: false };
    this.calls.push(call);
    try {
      const claims = decode(token);
      Object.assign(call, { jti: claims.jti, iat: claims.iat, nbf: claims.nbf, exp: claims.exp });
      const now = call.at / 1000;
      if (this.calls.some((c) => c !== call && c.jti === claims.jti))
        throw refusal("not_fresh", `updateToken got a token it was given before (${claims.jti})`);
      if (claims.nbf !== undefined && claims.nbf > now)
        throw refusal(20105, `Access Token not yet valid: nbf is ${Math.round(claims.nbf - now)} s ahead`);
      if (claims.exp <= now)
        throw refusal(20104, `Access Token expired: exp was ${Math.round(now - claims.exp)} s ago`);
    } catch (err) {
      Object.assign(call, { code: err.code ?? 20101, message: err.message });
      return Promise.reject(err);
    }
    call.ok = true;
    this.token = token;
    this.#arm(call);
    return Promise.resolve();
  }

  // shutdown stops the client: no more warnings, as when the app signs out.
  shutdown() {
    this.#timers.forEach(clearTimeout);
    this.#timers = [];
  }

  // #arm schedules the token's warnings, replacing the previous token's.
  #arm({ nbf, at, exp }) {
    this.#timers.forEach(clearTimeout);
    const msLeft = exp * 1000 - Date.now();
    const lead = (exp * 1000 - (nbf ? nbf * 1000 : at)) / 3;
    this.#timers = [
      setTimeout(() => this.#emit("tokenAboutToExpire", Math.round((exp * 1000 - Date.now()) / 1000)), Math.max(0, msLeft - lead)),
      setTimeout(() => this.#emit("tokenExpired"), msLeft),
    ];
  }

  #emit(event, ...args) {
    this.fired.push({ event, at: Date.now() });
    for (const listener of this.#listeners.get(event) ?? []) listener(...args);
  }
}

// decode returns a Twilio Access Token's claims, or throws 20101 when the
// token is not one: three base64url parts, header cty "twilio-fpa;v=1",
// and the claims every token has.
function decode(token) {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3) throw refusal(20101, "Invalid Access Token: not a JWT (three dot-separated parts)");
  let header, claims;
  try {
    header = JSON.parse(base64url(parts[0]));
    claims = JSON.parse(base64url(parts[1]));
  } catch {
    throw refusal(20101, "Invalid Access Token: its header or payload is not base64url JSON");
  }
  if (header.cty !== "twilio-fpa;v=1") throw refusal(20101, `Invalid Access Token: header cty is ${JSON.stringify(header.cty)}, want "twilio-fpa;v=1"`);
  for (const claim of ["jti", "iss", "sub", "exp", "grants"])
    if (claims[claim] === undefined) throw refusal(20101, `Invalid Access Token: no ${claim} claim`);
  return claims;
}

function base64url(s) {
  return atob(s.replace(/-/g, "+").replace(/_/g, "/"));
}

function refusal(code, message) {
  return Object.assign(new Error(message), { code });
}
