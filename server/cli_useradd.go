package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/users"
)

func cmdUseradd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "useradd")
	file := fs.String("file", "", "users file to create or update (default $"+config.EnvUsersFile+")")
	grants := fs.String("grants", "video", `comma-separated grant keys the user may ask for, or "*" for all`)
	fs.Bool("password-stdin", false, "read the password from stdin (always the case; accepted for clarity in scripts)")
	cost := fs.Int("cost", bcrypt.DefaultCost, fmt.Sprintf("bcrypt cost, %d to %d; below %d only for tests", users.MinCost, users.MaxCost, bcrypt.DefaultCost))
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("useradd takes exactly one NAME, got %d arguments (run `tokenlab help useradd`)", fs.NArg())
	}
	name := users.Normalize(fs.Arg(0))
	path := *file
	if path == "" {
		path = strings.TrimSpace(e.getenv(config.EnvUsersFile))
	}
	if path == "" {
		return usageErrorf("useradd: no users file: pass --file users.json or set %s", config.EnvUsersFile)
	}
	// Checked before reading the password: a cost of 31 would hash for years.
	if *cost < users.MinCost || *cost > users.MaxCost {
		return usageErrorf("useradd: --cost must be from %d to %d (each step doubles the time of every sign-in; %d takes about a second), got %d",
			users.MinCost, users.MaxCost, users.MaxCost, *cost)
	}
	if *cost < bcrypt.DefaultCost {
		fmt.Fprintf(e.stderr, "useradd: warning: --cost %d is cheap to crack if the file leaks: use %d or more for real passwords\n", *cost, bcrypt.DefaultCost)
	}
	var keys []string
	for _, g := range strings.Split(*grants, ",") {
		if g = strings.TrimSpace(g); g != "" {
			keys = append(keys, g)
		}
	}
	if err := users.CheckGrants(keys); err != nil {
		return usageErrorf("useradd: --%v", err)
	}
	if err := users.CheckUsername(name); err != nil {
		return usageErrorf("useradd: NAME: %v", err)
	}
	password, err := readPassword(e, name)
	if u := (*usageError)(nil); errors.As(err, &u) {
		return err
	}
	if err != nil {
		return fmt.Errorf("useradd: reading the password from stdin: %w", err)
	}
	if password == "" {
		return usageErrorf("useradd: empty password: write it on stdin, e.g. `printf '%%s\\n' \"$PASSWORD\" | tokenlab useradd --file %s %s`", path, name)
	}
	created, err := users.Put(path, name, password, keys, *cost)
	if err != nil {
		return fmt.Errorf("useradd: %w", err)
	}
	verb := "updated"
	if created {
		verb = "added"
	}
	fmt.Fprintf(e.stdout, "%s user %s (grants: %s) in %s\n", verb, name, strings.Join(keys, ", "), path)
	return nil
}

// readPassword reads the password from stdin: typed at a terminal without
// echo, asked twice so that a typo does not become the password; piped in,
// its first line.
func readPassword(e env, name string) (string, error) {
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return readLine(e.stdin)
	}
	fmt.Fprintf(e.stderr, "password for %s: ", name)
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil || len(first) == 0 {
		return "", err
	}
	fmt.Fprintf(e.stderr, "again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", usageErrorf("useradd: the two passwords differ; nothing was changed")
	}
	return string(first), nil
}

// readLine reads the first line, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
