package e2e_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tutorialToken is the sample token of the tutorial tokenlab started from
// (a video grant for room "My Room", identity susan, expired in 2021).
const tutorialToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0.eyJqdGkiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxLTE2MTAzNzk3NDciLCJncmFudHMiOnsidmlkZW8iOnsicm9vbSI6Ik15IFJvb20ifSwiaWRlbnRpdHkiOiJzdXNhbiJ9LCJpc3MiOiJTSzIxYzE3MDEzZjNmYWNlOGZkYzRlNDYyM2IwYTlkMmMxIiwiZXhwIjoxNjEwMzgzMzQ3LCJuYmYiOjE2MTAzNzk3NDcsInN1YiI6IkFDMTVjMTczN2JmMTQwNjRkMjI3OGQ2MTZmYWNlM2YxN2YifQ.6VCgKYoXTWnX8SzzmIgqeiqTnkOaFYL6p1g8O_mMHOc"

// Pasting a token decodes and lints it in the page without any request;
// only the signature check goes to the server.
func TestPasteTutorialToken(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	open(t, ctx)
	// Resource timing lists every fetch the page makes: count them around
	// the paste.
	before := text(t, ctx, `String(performance.getEntriesByType("resource").length)`)
	// A paste sets the value and fires "input", as this does.
	err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`#paste`)),
		chromedp.SetValue(chromedp.CSS(`#paste`), "Bearer "+tutorialToken),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("paste").dispatchEvent(new Event("input", {bubbles: true}))`),
	)
	if err != nil {
		t.Fatalf("pasting: %v", err)
	}
	waitFor(t, ctx, `!document.getElementById("inspect-view").hidden`, 5*time.Second)

	identity := text(t, ctx, `document.querySelector("#inspect-view [data-part=identity]").textContent`)
	if identity != "susan" {
		t.Errorf("identity = %q, want susan", identity)
	}
	cards := text(t, ctx, `[...document.querySelectorAll("#inspect-view .grant-card")].map(c => c.dataset.grant + ": " + c.innerText).join("\n")`)
	if !strings.HasPrefix(cards, "video: ") || !strings.Contains(cards, `Join the video room "My Room" only.`) {
		t.Errorf("grant cards:\n%s", cards)
	}
	raw := text(t, ctx, `document.querySelector("#inspect-view .grant-card pre").textContent`)
	if !strings.Contains(raw, `"room": "My Room"`) {
		t.Errorf("the card's raw JSON is %q", raw)
	}
	codes := text(t, ctx, `[...document.querySelectorAll("#inspect-view .finding")].map(f => f.dataset.code + " " + f.innerText.replace(/\s+/g, " ")).join("\n")`)
	if !strings.Contains(codes, "20104 ") {
		t.Errorf("lint findings lack 20104 (expired):\n%s", codes)
	}
	if got := text(t, ctx, `document.querySelector("#inspect-view [data-part=exp-utc]").textContent`); got != "2021-01-11 16:42:27 UTC" {
		t.Errorf("expiry shown as %q", got)
	}
	if got := text(t, ctx, `document.querySelector("#inspect-view [data-part=countdown]").textContent`); !strings.HasPrefix(got, "expired ") {
		t.Errorf("countdown shown as %q", got)
	}
	header := text(t, ctx, `document.querySelector("#inspect-view [data-part=header]").textContent`)
	if !strings.Contains(header, `"cty": "twilio-fpa;v=1"`) {
		t.Errorf("header view:\n%s", header)
	}
	if after := text(t, ctx, `String(performance.getEntriesByType("resource").length)`); after != before {
		t.Errorf("the page made %s requests while decoding (before %s): decoding must stay in the page", after, before)
	}

	// The signature needs the server's secret: it answers "not valid".
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#verify`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById("verify-result").dataset.valid !== undefined`, 5*time.Second)
	if got := text(t, ctx, `document.getElementById("verify-result").textContent`); !strings.HasPrefix(got, "not valid here") {
		t.Errorf("verify result = %q", got)
	}

	// Garbage is refused with a reason, and the views are cleared.
	eval(t, ctx, `const p = document.getElementById("paste"); p.value = "not.a-token"; p.dispatchEvent(new Event("input"))`)
	waitFor(t, ctx, `document.getElementById("inspect-view").hidden`, 5*time.Second)
	if got := text(t, ctx, `document.getElementById("paste-error").textContent`); !strings.Contains(got, "Cannot decode") {
		t.Errorf("paste error = %q", got)
	}
}

// A token the server minted in this browser verifies as valid.
func TestVerifyOwnToken(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	open(t, ctx)
	signIn(t, ctx, "frank", 600)
	eval(t, ctx, `const p = document.getElementById("paste");
		p.value = document.querySelector("#live-view [data-part=raw]").textContent;
		p.dispatchEvent(new Event("input"))`)
	waitFor(t, ctx, `!document.getElementById("verify").disabled`, 5*time.Second)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#verify`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById("verify-result").dataset.valid === "true"`, 5*time.Second)
}

// TestPasteTimesAtTheEdges pastes tokens whose times sit at the edges: no
// exp at all (jwt.io's RS256 sample), an exp in year 9999 and one in 1900.
// The countdown must say so in words, never a negative or saturated count.
func TestPasteTimesAtTheEdges(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	open(t, ctx)
	enc := base64.RawURLEncoding.EncodeToString
	sig := enc([]byte("not a real signature, decode only"))
	tests := []struct {
		name, header, payload string
		countdown, expUTC     string
	}{
		{"jwt.io's RS256 sample, no exp", `{"alg":"RS256","typ":"JWT"}`, `{"sub":"1234567890","name":"John Doe","admin":true,"iat":1516239022}`,
			"never (no exp claim)", "—"},
		{"exp in year 9999", `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, `{"jti":"SK1-1","iss":"SK1","sub":"AC1","exp":253402300799,"grants":{"identity":"a"}}`,
			"in more than 100 years", "9999-12-31 23:59:59 UTC"},
		{"exp in 1900", `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, `{"jti":"SK1-1","iss":"SK1","sub":"AC1","exp":-2208988800,"grants":{"identity":"a"}}`,
			"expired more than 100 years ago", "1900-01-01 00:00:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := enc([]byte(tt.header)) + "." + enc([]byte(tt.payload)) + "." + sig
			eval(t, ctx, `{ const p = document.getElementById("paste"); p.value = `+strconv.Quote(raw)+`; p.dispatchEvent(new Event("input")) }`)
			waitFor(t, ctx, `!document.getElementById("inspect-view").hidden && document.querySelector("#inspect-view [data-part=countdown]").textContent !== ""`, 5*time.Second)
			if got := text(t, ctx, `document.querySelector("#inspect-view [data-part=countdown]").textContent`); got != tt.countdown {
				t.Errorf("countdown shown as %q, want %q", got, tt.countdown)
			}
			if got := text(t, ctx, `document.querySelector("#inspect-view [data-part=exp-utc]").textContent`); got != tt.expUTC {
				t.Errorf("expiry shown as %q, want %q", got, tt.expUTC)
			}
		})
	}
}

// TestLintFollowsTheClock pastes tokens whose nbf is just ahead of the
// page's clock: within the clock estimate's leeway (a token the server has
// just minted, its nbf rounded down) it is valid at once; a few seconds
// ahead it is "not yet valid" (20105) until that time comes, and then the
// finding goes away by itself.
func TestLintFollowsTheClock(t *testing.T) {
	ctx := newTab(t, 30*time.Second)
	open(t, ctx)
	serverNow := `((Date.now() + window.tokenlab.snapshot().clockOffsetMs) / 1000)`
	paste := func(nbf string) {
		eval(t, ctx, `{
			const enc = (o) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
			const now = `+serverNow+`;
			const nbf = `+nbf+`;
			const raw = enc({alg: "HS256", typ: "JWT", cty: "twilio-fpa;v=1"}) + "." +
				enc({jti: "SK00000000000000000000000000000000-" + nbf, iss: "SK00000000000000000000000000000000",
					sub: "AC00000000000000000000000000000000", nbf, exp: nbf + 600, grants: {identity: "lin", video: {}}}) + ".c2ln";
			const p = document.getElementById("paste"); p.value = raw; p.dispatchEvent(new Event("input"));
		}`)
	}
	has20105 := `[...document.querySelectorAll("#inspect-view .finding")].some(f => f.dataset.code === "20105")`
	linted := `document.querySelectorAll("#inspect-view .finding").length > 0`

	// The next whole second, a quarter of a second away at most: what a
	// page a few milliseconds behind the server sees of a fresh token.
	waitFor(t, ctx, serverNow+` % 1 > 0.75`, 5*time.Second)
	paste(`Math.ceil(now)`)
	waitFor(t, ctx, linted, 5*time.Second)
	if text(t, ctx, `String(`+has20105+`)`) == "true" {
		t.Error("a token minted a moment ago is called not yet valid")
	}

	paste(`Math.floor(now) + 4`)
	waitFor(t, ctx, has20105, 5*time.Second)
	// No new paste: the page lints again as time passes.
	waitFor(t, ctx, `!`+has20105, 10*time.Second)
}
