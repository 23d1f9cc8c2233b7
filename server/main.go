// Command tokenlab mints and inspects Twilio Access Tokens: an HTTP server
// with a page that shows a token live (serve), and a CLI (mint, decode,
// useradd…). Run `tokenlab help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"

	"github.com/joho/godotenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// .env is read here and only here; variables already set win over it.
	if err := godotenv.Load(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "tokenlab: reading .env:", err)
		os.Exit(1)
	}
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tokenlab:", err)
		os.Exit(exitCode(err))
	}
}
