package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// env is everything a subcommand may touch besides its arguments, so tests
// drive commands through run with fakes.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
}

// command is one subcommand of bin/tokenlab.
type command struct {
	name    string
	args    string // argument synopsis for the usage line
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// commands is the dispatch table: one line per subcommand, in help order.
func commands() []command {
	return []command{
		{"serve", "[flags]", "run the HTTP server and the page (the default command)", cmdServe},
		{"mint", "--identity NAME [grant flags]", "print a signed token on stdout", cmdMint},
		{"decode", "[flags] [TOKEN]", "show a token's header, payload and time left (TOKEN or stdin)", cmdDecode},
		{"lint", "[--json] [TOKEN]", "check a token as Twilio would, naming each problem's Twilio error code (TOKEN or stdin)", cmdLint},
		{"useradd", "[flags] NAME", "add or update a user in the users file (password on stdin)", cmdUseradd},
		{"watch", "--username U --password P [--server URL] [--ttl N] [--for D]", "sign in, hold the session's WebSocket and renew on every warning, printing each event", cmdWatch},
		{"sessions", "[--server URL] [list | revoke ID | expire ID | warn ID | fail ID [flags] | skew ID OFFSET | drop ID [CODE]]", "list a running server's live sessions, revoke one, or cause a lab fault for one (admin token from $TOKENLAB_ADMIN_TOKEN)", cmdSessions},
		{"cert", "[--server URL] [--pem] [--out FILE]", "show the TLS certificate serve uses (TOKENLAB_TLS=on), to trust exactly it", cmdCert},
		{"version", "", "print tokenlab's version, the commit it was built from and the Go that built it", cmdVersion},
		{"help", "[COMMAND]", "list the commands, or show one command's flags", cmdHelp},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run is main without the process: args is os.Args (args[0] is the program
// name). With no subcommand, or only flags, it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}
	name, rest := "serve", []string{}
	if len(args) > 1 {
		rest = args[1:]
		switch {
		case !strings.HasPrefix(args[1], "-"):
			name, rest = args[1], args[2:]
		case args[1] == "-h" || args[1] == "-help" || args[1] == "--help":
			// tokenlab --help asks about tokenlab, not about serve.
			name, rest = "help", args[2:]
		}
	}
	c, ok := lookup(name)
	if !ok {
		return usageErrorf("unknown command %q: run `tokenlab help` to list the commands", name)
	}
	err := c.run(ctx, e, rest)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode is 2 for command-line mistakes and 1 for every other failure.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// errHelpShown ends a command after -h printed its usage.
var errHelpShown = errors.New("help shown")

// newFlagSet returns a flag set for the named command. It prints nothing
// itself: parseFlags prints the usage for -h and returns other mistakes as
// usage errors.
func newFlagSet(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		out := fs.Output()
		c, _ := lookup(name)
		fmt.Fprintf(out, "usage: tokenlab %s %s\n\n%s.\n", c.name, c.args, capitalize(c.summary))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(out, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; -h prints the usage on stdout and stops the
// command, a bad flag is a usage error.
func parseFlags(e env, fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(e.stdout)
		fs.Usage()
		return errHelpShown
	case err != nil:
		return usageErrorf("%s: %v (run `tokenlab help %s`)", fs.Name(), err, fs.Name())
	}
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// cmdHelp lists the commands, or runs one with -h.
func cmdHelp(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "help")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	switch fs.NArg() {
	case 0:
		fmt.Fprint(e.stdout, "tokenlab mints and inspects Twilio Access Tokens.\n\nusage: tokenlab COMMAND [flags]\n\ncommands:\n")
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, c := range commands() {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
		tw.Flush()
		fmt.Fprint(e.stdout, "\nRun `tokenlab help COMMAND` for a command's flags. Configuration comes from\n.env, then the environment, then flags (see README.md).\n")
		return nil
	case 1:
		c, ok := lookup(fs.Arg(0))
		if !ok {
			return usageErrorf("help: unknown command %q: run `tokenlab help` to list the commands", fs.Arg(0))
		}
		return c.run(ctx, e, []string{"-h"})
	}
	return usageErrorf("help takes at most one command, got %d arguments", fs.NArg())
}
