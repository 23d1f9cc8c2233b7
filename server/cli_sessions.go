package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/shared/token"
)

// cmdSessions is the operator's view of a running server: list its live
// sessions, revoke one, or cause one of the lab's faults for it.
func cmdSessions(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "sessions")
	server := fs.String("server", "", serverFlagHelp)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	base, err := serverURL(e, *server)
	if err != nil {
		return err
	}
	// The admin token comes from the environment only: a flag would show
	// it in ps and shell history.
	adminToken := e.getenv(config.EnvAdminToken)
	client := &http.Client{Timeout: 15 * time.Second}
	call := func(method, path string, body, v any) error {
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return err
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, base.String()+path, rd)
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if adminToken != "" {
			req.Header.Set("Authorization", "Bearer "+adminToken)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("sessions: cannot reach %s (is the server running?): %w", base, err)
		}
		if err := readAnswer(resp, v); err != nil {
			hint := ""
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				hint = fmt.Sprintf("; set %s to the server's admin token, or run this on the server's machine", config.EnvAdminToken)
			}
			return fmt.Errorf("sessions: %s %s: %w%s", method, path, err, hint)
		}
		return nil
	}

	switch {
	case fs.NArg() == 0 || fs.NArg() == 1 && fs.Arg(0) == "list":
		var list api.SessionsResponse
		if err := call("GET", "/admin/sessions", nil, &list); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tIDENTITY\tCONNS\tTOKEN EXPIRES\tSESSION EXPIRES")
		for _, s := range list.Sessions {
			tokenExp := "-"
			if !s.TokenExp.IsZero() {
				tokenExp = token.Stamp(s.TokenExp.Unix())
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.ID, s.Identity, s.Connections, tokenExp, token.Stamp(s.SessionExp.Unix()))
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d sessions, %d connections (limits: %d per session, %d in total)\n",
			len(list.Sessions), list.Connections, list.MaxConnsPerSession, list.MaxConns)
		printSDKConnections(e.stdout, list)
		ids := slices.Sorted(maps.Keys(list.Faults))
		for _, id := range ids {
			f := list.Faults[id]
			var parts []string
			if f.FailRenewals > 0 {
				what := "fail"
				if f.Status == 0 {
					what = "delay"
				}
				part := fmt.Sprintf("%s the next %d renewals", what, f.FailRenewals)
				if f.DelayMS > 0 {
					part += fmt.Sprintf(" by %v", time.Duration(f.DelayMS)*time.Millisecond)
				}
				if f.Status != 0 {
					part += fmt.Sprintf(" with %d", f.Status)
				}
				parts = append(parts, part)
			}
			if f.SkewSeconds != 0 {
				parts = append(parts, fmt.Sprintf("mint with the clock off by %+ds", f.SkewSeconds))
			}
			fmt.Fprintf(e.stdout, "lab %s: %s\n", id, strings.Join(parts, "; "))
		}
		return nil
	case fs.NArg() == 2 && fs.Arg(0) == "revoke":
		var rev api.RevokeResponse
		if err := call("POST", "/admin/sessions/"+url.PathEscape(fs.Arg(1))+"/revoke", nil, &rev); err != nil {
			return err
		}
		state := "its connections were closed"
		if !rev.Live {
			state = "it had no token or connection here; its cookie is refused from now on"
		}
		fmt.Fprintf(e.stdout, "revoked %s: %s\n", rev.Revoked, state)
		return nil
	case fs.Arg(0) == "revoke":
		return usageErrorf("sessions revoke takes one session ID (from `tokenlab sessions list`)")
	}
	if _, ok := labUsage[fs.Arg(0)]; ok {
		return sessionsLab(e, fs.Args(), call)
	}
	return usageErrorf("sessions: unknown action %q: use list, revoke ID, expire ID, warn ID, fail ID, skew ID OFFSET or drop ID [CODE]", fs.Args())
}

// labUsage is the usage of each lab action of `tokenlab sessions`.
var labUsage = map[string]string{
	"expire": "expire ID",
	"warn":   "warn ID",
	"fail":   "fail ID [--count N] [--status 401|429|500|503] [--retry-after SECONDS] [--delay DURATION]",
	"skew":   "skew ID OFFSET (seconds or a duration such as -5m; 0 clears)",
	"drop":   "drop ID [CODE] (1000, 1001, 1006 for a cut without a close frame, 1011, 1012, 1013, 4002; 1001 when absent)",
}

// sessionsLab causes one of the lab's faults for a session through the
// operator routes, POST /admin/sessions/{id}/{action}.
func sessionsLab(e env, args []string, call func(method, path string, body, v any) error) error {
	action := args[0]
	usage := func(format string, a ...any) error {
		return usageErrorf("sessions %s: %s: usage: tokenlab sessions %s", action, fmt.Sprintf(format, a...), labUsage[action])
	}
	if len(args) < 2 {
		return usage("give the session ID (from `tokenlab sessions list`)")
	}
	id, rest := args[1], args[2:]
	var body any
	switch action {
	case "expire", "warn":
		if len(rest) > 0 {
			return usage("unexpected %q", rest)
		}
	case "fail":
		fs := newFlagSet(e, "sessions")
		count := fs.Int("count", 1, "renewals to fail or delay (0 clears the order)")
		status := fs.Int("status", 0, "the status the renewals fail with: 401, 429, 500 or 503")
		retryAfter := fs.Int("retry-after", 0, "Retry-After in seconds, with 429 and 503 (1 when absent)")
		delay := fs.Duration("delay", 0, "hold each renewal this long first (at most 20s)")
		if err := fs.Parse(rest); err != nil {
			return usage("%v", err)
		}
		if fs.NArg() > 0 {
			return usage("unexpected %q", fs.Args())
		}
		if *delay%time.Millisecond != 0 {
			return usage("--delay must be whole milliseconds, got %v", *delay)
		}
		body = map[string]int{"count": *count, "status": *status, "retry_after": *retryAfter, "delay_ms": int(*delay / time.Millisecond)}
	case "skew":
		if len(rest) != 1 {
			return usage("give one OFFSET")
		}
		secs, err := parseOffset(rest[0])
		if err != nil {
			return usage("%v", err)
		}
		body = map[string]int64{"seconds": secs}
	case "drop":
		code := 1001
		switch {
		case len(rest) > 1:
			return usage("unexpected %q", rest[1:])
		case len(rest) == 1:
			n, err := strconv.Atoi(rest[0])
			if err != nil {
				return usage("CODE must be a close code number, got %q", rest[0])
			}
			code = n
		}
		body = map[string]int{"code": code}
	}
	var ans api.LabResponse
	if err := call("POST", "/admin/sessions/"+url.PathEscape(id)+"/"+action, body, &ans); err != nil {
		return err
	}
	switch action {
	case "expire", "warn", "drop":
		fmt.Fprintf(e.stdout, "%s %s: %d connections reached\n", action, ans.Session, ans.Connections)
	default:
		fmt.Fprintf(e.stdout, "%s %s: ordered for its next renewals\n", action, ans.Session)
	}
	return nil
}

// parseOffset reads a clock offset as whole seconds ("-300") or a
// duration ("-5m", "2h").
func parseOffset(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d%time.Second != 0 {
		return 0, fmt.Errorf("OFFSET must be whole seconds (-300) or a duration in whole seconds (-5m), got %q", s)
	}
	return int64(d / time.Second), nil
}

// printSDKConnections lists the Twilio SDK connections, beside the
// sessions of the same identity (which see them in their page).
func printSDKConnections(w io.Writer, list api.SessionsResponse) {
	if len(list.SDKConnections) == 0 {
		fmt.Fprintln(w, "no Twilio SDK connections")
		return
	}
	sessionsOf := map[string][]string{}
	for _, s := range list.Sessions {
		sessionsOf[s.Identity] = append(sessionsOf[s.Identity], s.ID)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SDK\tIDENTITY\tPRODUCT\tSTATE\tTOKEN EXPIRES\tLAST EVENT\tAT\tSESSIONS")
	for _, c := range list.SDKConnections {
		tokenExp := "-"
		if !c.TokenExp.IsZero() {
			tokenExp = token.Stamp(c.TokenExp.Unix())
		}
		event := c.Event
		if c.ErrorCode != 0 {
			event += " " + strconv.Itoa(c.ErrorCode)
		}
		sessions := "-"
		if ids := sessionsOf[c.Identity]; len(ids) > 0 {
			sessions = strings.Join(ids, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Identity, c.Product, c.State, tokenExp, event,
			token.Stamp(c.EventAt.Unix()), sessions)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d Twilio SDK connections (closed ones stay listed for %v, at most %d)\n",
		len(list.SDKConnections), sdkconn.EndedLinger, sdkconn.MaxEnded)
}
