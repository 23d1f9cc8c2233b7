package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

// maxTokenInput bounds what decode and lint read from stdin; real tokens
// are a few KiB.
const maxTokenInput = 1 << 20

// tokenArg returns the one token a command takes, from its argument or, with
// none, from stdin. Input over maxTokenInput is refused as such: cut at the
// limit, it would be misreported as a broken token.
func tokenArg(e env, fs *flag.FlagSet, cmd string) (string, error) {
	var raw string
	switch fs.NArg() {
	case 0:
		b, err := io.ReadAll(io.LimitReader(e.stdin, maxTokenInput+1))
		if err != nil {
			return "", fmt.Errorf("%s: reading stdin: %w", cmd, err)
		}
		if len(b) > maxTokenInput {
			return "", usageErrorf("%s: the input on stdin is longer than the limit of 1 MiB (a token is a few KiB): pass only the token or tokenlab's answer", cmd)
		}
		raw = string(b)
	case 1:
		raw = fs.Arg(0)
	default:
		return "", usageErrorf("%s takes one token, got %d arguments", cmd, fs.NArg())
	}
	if strings.TrimSpace(raw) == "" {
		return "", usageErrorf("%s: no token: pass it as an argument or on stdin", cmd)
	}
	return unwrapToken(cmd, raw)
}

// unwrapToken takes the token out of what people pipe in: the server's own
// answer (`curl … /token | tokenlab decode`), a JSON string with its quotes,
// or the bare token.
func unwrapToken(cmd, raw string) (string, error) {
	trimmed := strings.TrimSpace(raw)
	switch trimmed[0] {
	case '{':
		var answer struct {
			Token *string `json:"token"`
		}
		if err := json.Unmarshal([]byte(trimmed), &answer); err != nil {
			return "", usageErrorf("%s: the input starts with { but is not a JSON object: %v", cmd, err)
		}
		if answer.Token == nil {
			return "", usageErrorf(`%s: the JSON input has no "token" field: give the token, or tokenlab's answer to POST /token`, cmd)
		}
		return *answer.Token, nil
	case '"':
		var s string
		if err := json.Unmarshal([]byte(trimmed), &s); err != nil {
			return "", usageErrorf("%s: the input starts with a quote but is not one JSON string: %v", cmd, err)
		}
		return s, nil
	}
	return raw, nil
}

func cmdDecode(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "decode")
	verify := fs.Bool("verify", false, "also check the signature with the configured API key secret")
	ov := config.Bind(fs, config.EnvAccountSID, config.EnvAPIKeySID)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	raw, err := tokenArg(e, fs, "decode")
	if err != nil {
		return err
	}
	// With --verify, a configuration mistake is reported before any output.
	var m *mint.Minter
	if *verify {
		cfg, err := loadConfig(e, ov)
		if err != nil {
			return err
		}
		if m, err = mint.New(cfg.Twilio, e.now); err != nil {
			return err
		}
	}
	t, err := token.Decode(raw)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	fmt.Fprintf(e.stdout, "header:\n%s\npayload:\n%s\n", indent(t.HeaderJSON), indent(t.PayloadJSON))
	now := e.now()
	if iat := t.Claims.IssuedAt(); !iat.IsZero() {
		fmt.Fprintf(e.stdout, "issued:  %s\n", token.Stamp(iat.Unix()))
	}
	exp := t.Claims.ExpiresAt()
	switch left := t.Claims.Remaining(now).Truncate(time.Second); {
	case t.Claims.Exp == 0:
		fmt.Fprintln(e.stdout, "expires: never (no exp claim: Twilio rejects it)")
	case left > 0:
		fmt.Fprintf(e.stdout, "expires: %s (in %s)\n", token.Stamp(exp.Unix()), left)
	default:
		fmt.Fprintf(e.stdout, "expires: %s (expired %s ago)\n", token.Stamp(exp.Unix()), -left)
	}
	if t.Claims.NotYetValid(now) {
		fmt.Fprintf(e.stdout, "not valid before %s\n", token.Stamp(t.Claims.IssuedAt().Unix()))
	}
	if !*verify {
		return nil
	}
	if _, err := m.Verify(raw); err != nil {
		fmt.Fprintf(e.stdout, "signature: INVALID: %v\n", err)
		return fmt.Errorf("decode: signature check failed: %w", err)
	}
	fmt.Fprintf(e.stdout, "signature: valid (HS256 with the secret of %s)\n", m.APIKeySID())
	return nil
}

// indent pretty-prints JSON as it was signed, keeping its key order.
func indent(b []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return string(b)
	}
	return buf.String()
}
