// app.js starts tokenlab's page program (wasm). Everything else the page
// does is in Go: see wasm/ in the repository.
"use strict";

(async () => {
  const fail = (message) => {
    const boot = document.getElementById("boot");
    if (boot) {
      boot.textContent = message;
      boot.className = "field-error";
    }
    window.dispatchEvent(new CustomEvent("tokenlab:error", { detail: { code: "boot", message } }));
  };
  if (typeof Go !== "function" || typeof WebAssembly !== "object") {
    fail("This browser cannot run the page's program (WebAssembly), or wasm_exec.js is not built: run make web-assets.");
    return;
  }
  const url = document.documentElement.dataset.wasm;
  try {
    const go = new Go();
    const response = fetch(url);
    const { instance } = await WebAssembly.instantiateStreaming(response, go.importObject);
    go.run(instance);
  } catch (e) {
    fail("The page's program did not start (" + e + "). If " + url + " is missing, run make web-assets and restart the server.");
  }
})();
