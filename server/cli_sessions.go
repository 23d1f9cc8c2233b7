package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/shared/token"
)

// cmdSessions is the operator's view of a running server: list its live
// sessions, or revoke one.
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
	call := func(method, path string, v any) error {
		req, err := http.NewRequestWithContext(ctx, method, base.String()+path, nil)
		if err != nil {
			return err
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
		if err := call("GET", "/admin/sessions", &list); err != nil {
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
		return nil
	case fs.NArg() == 2 && fs.Arg(0) == "revoke":
		var rev api.RevokeResponse
		if err := call("POST", "/admin/sessions/"+url.PathEscape(fs.Arg(1))+"/revoke", &rev); err != nil {
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
	return usageErrorf("sessions: unknown action %q: use `list` or `revoke ID`", fs.Args())
}
