// embed.js puts tokenlab's token panel into any page: one script tag from
// tokenlab's origin, then tokenlab.embed({...}) (docs/embed.md). It runs
// the same Go program as tokenlab's own page, inside a shadow root, and
// every call it makes goes back to the origin this script came from, with
// the session cookie.
//
// The server serves this file with wasm_exec.js in front of it and fills
// in the panel's markup and style, so that the page loads one script
// before the program itself.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) {
    console.error("tokenlab: load embed.js with a classic <script src> tag: it finds tokenlab's address from its own URL");
    return;
  }
  // origin is tokenlab's: every request, and the socket, goes there.
  const origin = new URL(script.src).origin;
  const wasmURL = origin + "{{/gen/tokenlab.wasm}}";
  const css = "{{css}}";
  const html = "{{html}}";
  // requestTimeout matches the program's own bound (wasm/fetch.go).
  const requestTimeout = 10000;

  const api = (globalThis.tokenlab = globalThis.tokenlab || {});
  if (api.embed) return; // embed.js ran already: one program per page

  // The program's download and compilation start now, while the app's
  // own scripts load, not when it calls embed(): the sign-in is then the
  // only wait it adds. A failure (a CSP without 'wasm-unsafe-eval') is
  // reported by embed().
  const module = typeof WebAssembly === "object"
    ? WebAssembly.compileStreaming(fetch(wasmURL, { credentials: "omit" }))
    : Promise.reject(new Error("this browser cannot run WebAssembly"));
  module.catch(() => {});

  const fire = (name, detail) => window.dispatchEvent(new CustomEvent(name, { detail }));
  let host = null;
  let shown = true;
  // program is tokenlabEmbed once the program runs; broken, a rejected
  // promise, once it could not start or stopped: every later call returns
  // it (the page must be fixed and loaded again).
  let program = null;
  let broken = null;
  // current is the latest sign-in: its promise and its state, one of
  // "signing-in", "live" (its first token came), "ended" (its session is
  // over: revoked, signed out, past its lifetime) and "failed" (refused
  // before any token).
  let current = null;

  api.panel = {
    show() { shown = true; if (host) host.hidden = false; },
    hide() { shown = false; if (host) host.hidden = true; },
  };

  // embed signs in, the first time starting the program. While a sign-in
  // is in flight or its session lives, a call returns that sign-in's
  // promise (its options are not used); once the session has ended, or
  // the sign-in was refused, a call signs in anew with the options given.
  api.embed = (options) => {
    if (broken) return broken;
    if (current && (current.state === "signing-in" || current.state === "live")) return current.promise;
    current = signIn(options);
    return current.promise;
  };

  // optionNames are the options tokenlab.embed takes (docs/embed.md).
  const optionNames = ["username", "password", "ttl", "grants", "panel", "onToken"];

  // check reads the options once (a getter runs once, so what is checked
  // is what is sent) and returns their copy and what is wrong with them,
  // naming the option, or "". A name it does not know is refused, not
  // ignored: a misspelt ttl would otherwise sign in with the default.
  const check = (o) => {
    if (typeof o !== "object" || o === null) return [null, "tokenlab.embed takes an options object: {" + optionNames.join(", ") + "}"];
    const unknown = Object.keys(o).find((k) => !optionNames.includes(k));
    if (unknown !== undefined) return [null, "tokenlab.embed: " + JSON.stringify(unknown) + " is not an option; the options are " + optionNames.join(", ")];
    const c = {};
    for (const k of optionNames) c[k] = o[k];
    if (typeof c.username !== "string" || c.username === "") return [null, "tokenlab.embed: username must be a non-empty string"];
    if (typeof c.password !== "string") return [null, "tokenlab.embed: password must be a string"];
    if (c.ttl !== undefined && !Number.isInteger(c.ttl)) return [null, "tokenlab.embed: ttl must be a whole number of seconds (or left out for the server's default)"];
    if (c.grants !== undefined && (typeof c.grants !== "object" || c.grants === null || Array.isArray(c.grants)))
      return [null, "tokenlab.embed: grants must be an object, as POST /token takes it (docs/api.md)"];
    if (c.panel !== undefined && typeof c.panel !== "boolean") return [null, "tokenlab.embed: panel must be true or false (false starts with the panel hidden)"];
    if (c.onToken !== undefined && typeof c.onToken !== "function") return [null, "tokenlab.embed: onToken must be a function (token, detail)"];
    return [c, ""];
  };

  // signIn sends one sign-in and returns its record: the program settles
  // its promise (through tokenlabEmbed's first and failed, which reach the
  // current sign-in) and hands it the session's renewals. Whatever the
  // options do, it returns a promise: options that throw reject it.
  function signIn(options) {
    const s = { state: "signing-in" };
    let o, wrong, body;
    try {
      [o, wrong] = check(options);
      if (!wrong) body = JSON.stringify({ username: o.username, password: o.password, ttl: o.ttl, grants: o.grants });
    } catch (e) {
      wrong = "tokenlab.embed: reading the options threw: " + (e && e.message ? e.message : String(e));
    }
    if (wrong) {
      fire("tokenlab:error", { code: "signin", message: wrong, field: "options" });
      s.state = "failed";
      s.promise = Promise.reject(new TypeError(wrong));
      return s;
    }
    const onToken = o.onToken; // the options (and the password) are not kept
    s.promise = new Promise((resolve, reject) => {
      s.first = (token) => { s.state = "live"; resolve(token); };
      s.failed = (message) => { if (s.state === "signing-in") s.state = "failed"; reject(new Error(message)); };
    });
    s.renewed = (token, detail) => {
      if (onToken) {
        try { onToken(token, detail); } catch (e) { console.error("tokenlab: onToken threw", e); }
      }
      fire("tokenlab:token", detail);
    };
    // A session that ends before a later sign-in's first token (its
    // signed_out follows its revoked) leaves that sign-in alone.
    s.ended = () => { if (s.state === "live") s.state = "ended"; };
    if (o.panel === false) api.panel.hide();
    const answer = post("/token", body);
    if (program) program.signInAgain(answer);
    else start(answer);
    return s;
  }

  // fail reports a program that could not start, or stopped: the current
  // sign-in rejects, and so does every later call.
  function fail(message) {
    message = "tokenlab: the embed's program did not start: " + message;
    fire("tokenlab:error", { code: "boot", message });
    broken = Promise.reject(new Error(message));
    broken.catch(() => {});
    current?.failed?.(message);
  }

  // start starts the program with the first sign-in: the sign-in and the
  // program's download and compilation overlap, and the program takes the
  // answer when it starts (wasm/embed.go).
  async function start(signIn) {
    const boot_ = { origin, signIn };
    signIn.then((answer) => { if (boot_.signIn) boot_.answer = answer; });
    try {
      if (!document.body) await new Promise((ok) => addEventListener("DOMContentLoaded", ok, { once: true }));
      host = document.createElement("tokenlab-panel");
      host.hidden = !shown;
      const root = host.attachShadow({ mode: "open" });
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
      const tpl = document.createElement("template");
      tpl.innerHTML = html;
      root.append(tpl.content);
      panelKeys(root);
      document.body.append(host);
      if (typeof Go !== "function") throw new Error("wasm_exec.js is not built: run make build and restart tokenlab");
      const go = new Go();
      const instance = await WebAssembly.instantiate(await module, go.importObject);
      boot_.root = root;
      // The program calls these for the current sign-in: its first token
      // settles its promise, each later one goes to its onToken and the
      // tokenlab:token event, and ended says its session is over.
      boot_.first = (token) => current?.first?.(token);
      boot_.failed = (message) => current?.failed?.(message);
      boot_.renewed = (token, detail) => current?.renewed?.(token, detail);
      boot_.ended = () => current?.ended?.();
      globalThis.tokenlabEmbed = boot_;
      program = boot_;
      // The program runs as long as the page; its end (a crash, shown in
      // the console) settles a promise still waiting.
      go.run(instance).then(() => fail("it stopped (see the console)"));
    } catch (e) {
      fail(String(e && e.message ? e.message : e) +
        ". The page's Content-Security-Policy must allow 'wasm-unsafe-eval' and " + origin + " in script-src and connect-src.");
    }
  }

  // post sends what the program's own requests send (wasm/fetch.go), with
  // the cookie, and keeps the answer as wasm/boot.go reads it.
  async function post(path, body) {
    const sent = Date.now();
    try {
      const init = {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "include",
        cache: "no-store",
        body,
      };
      if (typeof AbortSignal === "function" && AbortSignal.timeout) init.signal = AbortSignal.timeout(requestTimeout);
      const r = await fetch(origin + path, init);
      const received = Date.now();
      const text = await r.text();
      return { status: r.status, body: text, date: r.headers.get("Date") || "", sent, received };
    } catch (e) {
      return { error: String(e), sent, received: Date.now() };
    }
  }

  // panelKeys makes the panel's bar open and close the full view (a
  // button: Tab reaches it, Enter and Space press it); Escape closes it
  // and gives the focus back to the bar.
  function panelKeys(root) {
    const bar = root.getElementById("toggle");
    const full = root.getElementById("full");
    const open = (yes) => {
      full.hidden = !yes;
      bar.setAttribute("aria-expanded", String(yes));
    };
    bar.addEventListener("click", () => open(full.hidden));
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !full.hidden) {
        open(false);
        bar.focus();
      }
    });
  }
})();
