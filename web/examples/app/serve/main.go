// Command serve runs the example app for a person to try: `make example`
// starts it beside tokenlab, or run it alone with
// `go run ./web/examples/app/serve -addr localhost:3000 -tokenlab http://localhost:8080`
// (tokenlab's TOKENLAB_ALLOWED_ORIGINS must list the app's origin).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokenlab/tokenlab/web/examples/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := flags.String("addr", "localhost:3000", "address the app listens on (host:port)")
	tokenlab := flags.String("tokenlab", app.DefaultTokenlab, "tokenlab's address, as the app's page reaches it")
	if err := flags.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*tokenlab)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("-tokenlab %q must be an origin such as http://localhost:8080 (scheme, host and port, no path)", *tokenlab)
	}
	origin := u.Scheme + "://" + u.Host
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w (is something else, another example, listening there?)", *addr, err)
	}
	srv := &http.Server{Handler: app.Handler(origin), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "example app: http://%s/ (tokenlab at %s; its TOKENLAB_ALLOWED_ORIGINS must list http://%s)\n", *addr, origin, *addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
