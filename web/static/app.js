// app.js starts tokenlab's page program (wasm). Everything else the page
// does is in Go: see wasm/ in the repository.
//
// It is the first script in the head and runs before the rest of the page
// is parsed and laid out: the program's download and compilation, and the
// request for the session's token, overlap the browser building the page.
// The program itself starts once the page is parsed and wasm_exec.js (a
// deferred script) has run.
"use strict";

// resumeWait bounds how long a started program waits for the session's
// token before it runs (milliseconds).
const resumeWait = 300;

// quietStart is how long the page stays blank while its program starts
// (milliseconds). A page that is ready sooner appears once, with its
// token, and without first laying out and painting a "Loading" page:
// that work, and the font set-up it brings, would hold up the browser's
// main thread, which also takes in the program. A slower start shows the
// page and its "Loading" line after quietStart.
const quietStart = 400;

(async () => {
  const root = document.documentElement;
  root.classList.add("booting"); // style.css hides the page; main.go shows it
  setTimeout(() => root.classList.remove("booting"), quietStart);
  // parsed resolves once the page's elements exist and wasm_exec.js has
  // run: deferred scripts run after parsing, before DOMContentLoaded.
  const parsed = new Promise((ok) => {
    const state = document.readyState;
    if (state === "complete" || (state === "interactive" && typeof Go === "function")) ok();
    else addEventListener("DOMContentLoaded", ok, { once: true });
  });
  const fail = async (message) => {
    await parsed;
    root.classList.remove("booting");
    const boot = document.getElementById("boot");
    if (boot) {
      boot.textContent = message;
      boot.className = "field-error";
    }
    window.dispatchEvent(new CustomEvent("tokenlab:error", { detail: { code: "boot", message } }));
  };
  if (typeof WebAssembly !== "object") {
    fail("This browser cannot run the page's program (WebAssembly).");
    return;
  }
  // The session's token (a reload resumes it) is asked for now, while the
  // program downloads and starts, instead of after: the program takes this
  // answer from tokenlabBoot (wasm/boot.go) and asks again only when it is
  // missing. The request is the program's own (fetch.go): same
  // headers, same time limit.
  const resume = (async () => {
    const sent = Date.now();
    try {
      const init = {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      };
      if (typeof AbortSignal === "function" && AbortSignal.timeout) init.signal = AbortSignal.timeout(10000);
      const r = await fetch("/token/refresh?probe=1", init);
      const received = Date.now();
      const body = await r.text();
      return { status: r.status, body, date: r.headers.get("Date") || "", sent, received };
    } catch (e) {
      return { error: String(e), sent, received: Date.now() };
    }
  })();
  const boot = { resume };
  resume.then((answer) => { boot.answer = answer; });
  globalThis.tokenlabBoot = boot;
  const url = root.dataset.wasm;
  try {
    const module = WebAssembly.compileStreaming(fetch(url));
    module.catch(() => {}); // reported below, once awaited
    await parsed;
    if (typeof Go !== "function") {
      fail("wasm_exec.js is not built: run make build (it builds the page's program into bin/tokenlab) and restart the server.");
      return;
    }
    const go = new Go();
    const instance = await WebAssembly.instantiate(await module, go.importObject);
    // The program runs until it first waits, building the page, and the
    // browser lays the page out then: with the answer already here, that
    // first layout shows the token. A slow answer does not hold the
    // program back for more than resumeWait; it then waits for it itself.
    await Promise.race([resume, new Promise((ok) => setTimeout(ok, resumeWait))]);
    go.run(instance);
  } catch (e) {
    fail("The page's program did not start (" + e + "). If " + url + " is missing, run make build (it builds the page's program into bin/tokenlab) and restart the server.");
  }
})();
