package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestDecodeTakesTheServersAnswer pipes the server's own answer to
// POST /token into decode and lint, as `curl … /token | tokenlab decode`
// does, and a token in JSON quotes.
func TestDecodeTakesTheServersAnswer(t *testing.T) {
	base, _ := serveCtl(t, realEnv(), "0")
	resp, err := http.Post(base+"/token", "application/json", strings.NewReader(`{"username":"alice","password":"pw","ttl":600}`))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /token: %v %s", err, answer)
	}
	tok := strings.SplitN(strings.SplitN(string(answer), `"token":"`, 2)[1], `"`, 2)[0]
	inputs := map[string]string{
		"the server's answer": string(answer),
		"a quoted token":      strconv.Quote(tok) + "\n",
		"a bare token":        tok + "\n",
	}
	for name, stdin := range inputs {
		t.Run(name, func(t *testing.T) {
			d := runCLI(t, realEnv(), stdin, "decode", "--verify")
			if d.err != nil || !strings.Contains(d.stdout, `"identity": "alice"`) || !strings.Contains(d.stdout, "signature: valid") {
				t.Errorf("decode: %v\n%s", d.err, d.stdout)
			}
			l := runCLI(t, realEnv(), stdin, "lint")
			if l.err != nil {
				t.Errorf("lint: %v\n%s", l.err, l.stdout)
			}
		})
	}
	refused := []struct{ name, stdin, want string }{
		{"JSON without a token", `{"error":{"code":"unauthorized"}}`, `no "token" field`},
		{"broken JSON", `{"token":`, "not a JSON object"},
		{"broken quotes", `"abc`, "not one JSON string"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			d := runCLI(t, realEnv(), tt.stdin, "decode")
			if d.err == nil || exitCode(d.err) != 2 || !strings.Contains(d.err.Error(), tt.want) {
				t.Errorf("decode: err = %v, want a usage error saying %q", d.err, tt.want)
			}
		})
	}
}

// TestDecodeRefusesRepeatedKeys pastes tokens that say one thing to one
// JSON reader and another to the next (the last "exp" wins in most, the
// first in some): decode refuses them and names the key.
func TestDecodeRefusesRepeatedKeys(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := seg(`{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`)
	for name, payload := range map[string]string{
		"exp":        `{"jti":"SK1-1","grants":{"identity":"alice"},"iss":"SK1","exp":1,"sub":"AC1","exp":99999999999}`,
		"video.room": `{"jti":"SK1-1","grants":{"identity":"alice","video":{"room":"a","room":"b"}},"iss":"SK1","exp":1,"sub":"AC1"}`,
	} {
		t.Run(name, func(t *testing.T) {
			d := runCLI(t, realEnv(), header+"."+seg(payload)+".c2ln\n", "decode")
			msg := errString(d.err) + d.stderr
			if d.err == nil || !strings.Contains(msg, "is given more than once") || !strings.Contains(msg, name) {
				t.Fatalf("decode of a repeated %s: %v\nstdout %s\nstderr %s", name, d.err, d.stdout, d.stderr)
			}
		})
	}
}
