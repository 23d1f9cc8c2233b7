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
  let started = null;
  let host = null;
  let shown = true;

  api.panel = {
    show() { shown = true; if (host) host.hidden = false; },
    hide() { shown = false; if (host) host.hidden = true; },
  };

  // embed signs in and starts the program once; a second call returns the
  // first call's promise.
  api.embed = (options) => {
    if (!started) started = start(options);
    return started;
  };

  // check returns what is wrong with the options, naming the field, or "".
  const check = (o) => {
    if (typeof o !== "object" || o === null) return "tokenlab.embed takes an options object: {username, password, ttl, grants, panel, onToken}";
    if (typeof o.username !== "string" || o.username === "") return "tokenlab.embed: username must be a non-empty string";
    if (typeof o.password !== "string") return "tokenlab.embed: password must be a string";
    if (o.ttl !== undefined && !Number.isInteger(o.ttl)) return "tokenlab.embed: ttl must be a whole number of seconds (or left out for the server's default)";
    if (o.grants !== undefined && (typeof o.grants !== "object" || o.grants === null || Array.isArray(o.grants)))
      return "tokenlab.embed: grants must be an object, as POST /token takes it (docs/api.md)";
    if (o.onToken !== undefined && typeof o.onToken !== "function") return "tokenlab.embed: onToken must be a function (token, detail)";
    return "";
  };

  async function start(o) {
    const wrong = check(o);
    if (wrong) {
      fire("tokenlab:error", { code: "signin", message: wrong, field: "options" });
      throw new TypeError(wrong);
    }
    const onToken = o.onToken; // the options (and the password) are not kept
    let resolve, reject;
    const first = new Promise((ok, no) => { resolve = ok; reject = no; });
    const boot = (message) => {
      message = "tokenlab: the embed's program did not start: " + message;
      fire("tokenlab:error", { code: "boot", message });
      reject(new Error(message));
    };
    // The sign-in and the program's download and compilation overlap: the
    // program takes the answer when it starts (wasm/embed.go).
    const signIn = post("/token", JSON.stringify({ username: o.username, password: o.password, ttl: o.ttl, grants: o.grants }));
    const boot_ = { origin, signIn };
    signIn.then((answer) => { if (boot_.signIn) boot_.answer = answer; });
    try {
      if (!document.body) await new Promise((ok) => addEventListener("DOMContentLoaded", ok, { once: true }));
      host = document.createElement("tokenlab-panel");
      host.hidden = o.panel === false || !shown;
      if (o.panel === false) shown = false;
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
      // The program calls these: the first token settles the promise,
      // each later one goes to onToken and the tokenlab:token event.
      boot_.first = (token) => resolve(token);
      boot_.failed = (message) => reject(new Error(message));
      boot_.renewed = (token, detail) => {
        if (onToken) {
          try { onToken(token, detail); } catch (e) { console.error("tokenlab: onToken threw", e); }
        }
        fire("tokenlab:token", detail);
      };
      globalThis.tokenlabEmbed = boot_;
      // The program runs as long as the page; its end (a crash, shown in
      // the console) settles a promise still waiting.
      go.run(instance).then(() => boot("it stopped (see the console)"));
    } catch (e) {
      boot(String(e && e.message ? e.message : e) +
        ". The page's Content-Security-Policy must allow 'wasm-unsafe-eval' and " + origin + " in script-src and connect-src.");
    }
    return first;
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
