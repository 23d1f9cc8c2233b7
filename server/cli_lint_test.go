package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
)

// unsignedish builds a token with the given payload and a signature of
// HS256's length; lint cannot tell it from a signed one, which is the point.
func unsignedish(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`)) + "." + enc([]byte(payload)) + "." + enc(make([]byte, 32))
}

func expiredPayload(exp int64) string {
	return `{"jti":"` + testKey + `-` + itoa64(exp-3600) + `","iss":"` + testKey + `","sub":"` + testAccount +
		`","nbf":` + itoa64(exp-3600) + `,"exp":` + itoa64(exp) + `,"grants":{"identity":"alice","video":{"room":"r"}}}`
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestLintCLI drives `tokenlab lint` through run, as main does.
func TestLintCLI(t *testing.T) {
	minted := runCLI(t, realEnv(), "", "mint", "--identity", "alice", "--video-room", "r", "--ttl", "600")
	if minted.err != nil {
		t.Fatalf("mint: %v\n%s", minted.err, minted.stderr)
	}
	good := strings.TrimSpace(minted.stdout)
	expired := unsignedish(expiredPayload(time.Now().Add(-time.Hour).Unix()))

	tests := []struct {
		name      string
		stdin     string
		args      []string
		wantErr   bool
		wantCode  int      // exit code when wantErr
		wantLines []string // each must start a line of stdout
	}{
		{"a minted token, as an argument", "", []string{"lint", good}, false, 0, []string{"ok: no findings"}},
		{"a minted token, on stdin", good + "\n", []string{"lint"}, false, 0, []string{"ok: no findings"}},
		{"an expired token", "", []string{"lint", expired}, true, 1, []string{"error 20104 exp: the token expired 1h ago"}},
		{"an expired token on stdin with Bearer", "Bearer " + expired, []string{"lint"}, true, 1, []string{"error 20104 exp: the token expired"}},
		{"warnings alone do not fail", "", []string{"lint", unsignedish(strings.Replace(expiredPayload(time.Now().Add(time.Hour).Unix()), `"video"`, `"sync"`, 1))}, false, 0,
			[]string{`warning 20106 grants.sync: is not a Twilio grant: did you mean "data_sync"?`, "warning 20106 grants: the token carries no grant"}},
		{"not a token", "", []string{"lint", "hello"}, true, 1, []string{"error 20160 token: not a JWT"}},
		{"no token", "  \n", []string{"lint"}, true, 2, nil},
		{"two tokens", "", []string{"lint", good, good}, true, 2, nil},
		{"unknown flag", "", []string{"lint", "--yaml", good}, true, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.stdin, tt.args...)
			if (r.err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v\nstdout:\n%s", r.err, tt.wantErr, r.stdout)
			}
			if tt.wantErr && exitCode(r.err) != tt.wantCode {
				t.Errorf("exit code %d, want %d (%v)", exitCode(r.err), tt.wantCode, r.err)
			}
			for _, want := range tt.wantLines {
				if !strings.HasPrefix(r.stdout, want) && !strings.Contains(r.stdout, "\n"+want) {
					t.Errorf("no line starts with %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

func TestLintCLIJSON(t *testing.T) {
	expired := unsignedish(expiredPayload(time.Now().Add(-time.Hour).Unix()))
	r := runCLI(t, nil, "", "lint", "--json", expired)
	if r.err == nil || exitCode(r.err) != 1 || !strings.Contains(r.err.Error(), "1 error") {
		t.Fatalf("err = %v, want a failure counting 1 error", r.err)
	}
	var got []lint.Finding
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not a JSON array of findings: %v\n%s", err, r.stdout)
	}
	if len(got) != 1 || got[0].Code != 20104 || got[0].Severity != lint.SeverityError || got[0].Field != "exp" {
		t.Errorf("findings = %+v, want one 20104 error on exp", got)
	}

	minted := runCLI(t, realEnv(), "", "mint", "--identity", "alice", "--video-room", "My Room")
	r = runCLI(t, nil, strings.TrimSpace(minted.stdout), "lint", "--json")
	if r.err != nil || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("lint --json of a good token = %v, %q; want [] and success", r.err, r.stdout)
	}
}

// With the clock fixed, the output is exact.
func TestLintCLIFixedClock(t *testing.T) {
	exp := int64(1_700_000_000)
	var out bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, now: func() time.Time { return time.Unix(exp+180, 0) }}
	err := cmdLint(context.Background(), e, []string{unsignedish(expiredPayload(exp))})
	const want = "error 20104 exp: the token expired 3m ago (at 2023-11-14T22:13:20Z): mint a new one, and renew tokens before they expire\n"
	if out.String() != want {
		t.Errorf("output =\n%q\nwant\n%q", out.String(), want)
	}
	if err == nil || err.Error() != "lint: a Twilio service would refuse this token (1 error)" {
		t.Errorf("err = %v", err)
	}
}

func TestCount(t *testing.T) {
	f := func(s lint.Severity) lint.Finding { return lint.Finding{Severity: s} }
	tests := []struct {
		in   []lint.Finding
		want string
	}{
		{nil, ""},
		{[]lint.Finding{f(lint.SeverityError)}, "1 error"},
		{[]lint.Finding{f(lint.SeverityInfo), f(lint.SeverityError), f(lint.SeverityError), f(lint.SeverityWarning), f(lint.SeverityInfo)}, "2 errors, 1 warning, 2 info"},
	}
	for _, tt := range tests {
		if got := count(tt.in); got != tt.want {
			t.Errorf("count = %q, want %q", got, tt.want)
		}
	}
}

// TestTokenInputOverTheLimit: decode and lint refuse stdin longer than
// the limit, saying so, instead of reading its first MiB as the token (and
// calling it broken, or worse, fine).
func TestTokenInputOverTheLimit(t *testing.T) {
	minted := runCLI(t, realEnv(), "", "mint", "--identity", "alice", "--video-room", "r", "--ttl", "600")
	if minted.err != nil {
		t.Fatalf("mint: %v\n%s", minted.err, minted.stderr)
	}
	good := strings.TrimSpace(minted.stdout)
	for _, cmd := range []string{"decode", "lint"} {
		for name, stdin := range map[string]string{
			"a token after 1 MiB of padding": strings.Repeat("a", maxTokenInput) + good,
			"a token and 1 MiB of spaces":    good + strings.Repeat(" ", maxTokenInput),
		} {
			t.Run(cmd+", "+name, func(t *testing.T) {
				r := runCLI(t, nil, stdin, cmd)
				if r.err == nil || exitCode(r.err) != 2 || !strings.Contains(r.err.Error(), "longer than the limit of 1 MiB") {
					t.Fatalf("err = %v (exit %d), want a usage error naming the 1 MiB limit", r.err, exitCode(r.err))
				}
				if r.stdout != "" {
					t.Errorf("printed a verdict on a cut input:\n%.200s", r.stdout)
				}
			})
		}
		// At the limit exactly, the input is read.
		r := runCLI(t, nil, good+strings.Repeat(" ", maxTokenInput-len(good)), cmd)
		if r.err != nil {
			t.Errorf("%s of a token padded to exactly 1 MiB: %v", cmd, r.err)
		}
	}
}
