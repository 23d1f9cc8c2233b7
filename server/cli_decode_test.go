package main

import (
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
