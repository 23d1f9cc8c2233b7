package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tokenlab/tokenlab/shared/lint"
)

// cmdLint checks a token the way a Twilio service would and prints one
// finding per line ("error 20104 exp: the token expired 3m ago …"), or a
// JSON array with --json. It fails, so the exit status is 1, when a service
// would refuse the token; warnings alone do not fail it, so scripts can gate
// on the status.
func cmdLint(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "lint")
	asJSON := fs.Bool("json", false, `print the findings as a JSON array of {"code", "severity", "field", "message"}`)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	raw, err := tokenArg(e, fs, "lint")
	if err != nil {
		return err
	}

	findings := lint.Check(raw, e.now())
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(findings); err != nil {
			return fmt.Errorf("lint: writing findings: %w", err)
		}
	} else {
		for _, f := range findings {
			fmt.Fprintln(e.stdout, f)
		}
		if len(findings) == 0 {
			fmt.Fprintln(e.stdout, "ok: no findings (the signature is not checked: `tokenlab decode --verify` checks it)")
		}
	}
	if lint.HasErrors(findings) {
		return fmt.Errorf("lint: a Twilio service would refuse this token (%s)", count(findings))
	}
	return nil
}

// count summarises findings by severity: "2 errors, 1 warning".
func count(findings []lint.Finding) string {
	n := map[lint.Severity]int{}
	for _, f := range findings {
		n[f.Severity]++
	}
	var parts []string
	for _, s := range []lint.Severity{lint.SeverityError, lint.SeverityWarning, lint.SeverityInfo} {
		switch {
		case n[s] == 0:
		case n[s] == 1 || s == lint.SeverityInfo:
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		default:
			parts = append(parts, fmt.Sprintf("%d %ss", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}
