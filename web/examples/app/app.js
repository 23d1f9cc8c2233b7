// The app: gets its first token from tokenlab's embed, makes its SDK
// client with it, and hands the client every renewal. A stand-in takes the
// place of the Twilio SDK (swap in `new Client(token)` from
// @twilio/conversations, or `new Device(token)` from @twilio/voice-sdk).
import { StandInClient } from "./standin-client.js";

const params = new URLSearchParams(location.search);
const log = (text, className = "") => {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  li.className = className;
  document.getElementById("log").append(li);
};
const status = (text) => (document.getElementById("client-status").textContent = text);

let client;
// options are the app's sign-in: the embed keeps none of them (nor the
// password), so the app passes them again to sign in again.
const options = {
  username: params.get("username") ?? "alice",
  password: "any password works in demo mode",
  ttl: Number(params.get("ttl") ?? 3600),
  grants: { chat: { service_sid: "IS00000000000000000000000000000000" } },
  panel: true,
  onToken(token) {
    client.updateToken(token).then(
      () => log(`updateToken: ${client.calls.at(-1).jti}, expires ${new Date(client.calls.at(-1).exp * 1000).toLocaleTimeString()}`),
      (err) => log(`updateToken refused: ${err.message}`, "refused"),
    );
  },
};

// signIn gets the session's first token and makes the SDK client with it.
// Once a session has ended, tokenlab.embed signs in anew: a new session,
// a new client.
async function signIn() {
  const first = await tokenlab.embed(options);
  client = new StandInClient(first);
  client.on("tokenAboutToExpire", (secondsLeft) => log(`client: token expires in ${secondsLeft} s`));
  client.on("tokenExpired", () => { status("token expired"); log("client: token expired", "refused"); });
  window.app = { client };
  status("has a token");
  log(`signed in: ${client.calls[0].jti}, expires ${new Date(client.calls[0].exp * 1000).toLocaleTimeString()}`);
}

// Failures (a refused renewal, a dropped socket) are the embed's to retry;
// the app only shows them. A session that ends is over: revoked, the app
// stops; ended otherwise (close code 4002: it reached its absolute
// lifetime), the app offers to sign in again, in the same page.
let revoked = false;
addEventListener("tokenlab:error", (e) => log(`tokenlab: ${e.detail.code}: ${e.detail.message}`));
addEventListener("tokenlab:notice", (e) => {
  if (e.detail.type === "revoked") {
    revoked = true;
    client?.shutdown();
    status("signed out by tokenlab");
    log("session revoked", "refused");
  } else if (e.detail.type === "signed_out" && !revoked) {
    client?.shutdown();
    status("session ended: sign in again");
    log(`session ended: ${e.detail.message}`, "refused");
    document.getElementById("sign-in-again").hidden = false;
  }
});
const again = document.getElementById("sign-in-again");
const start = () =>
  signIn().catch((err) => {
    status("sign-in failed");
    log(`sign-in failed: ${err.message}`, "refused");
    again.hidden = false;
  });
again.addEventListener("click", () => {
  again.hidden = true;
  status("signing in again");
  start();
});

start();
