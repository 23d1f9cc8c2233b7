package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// Bad flags are refused before anything listens, naming the flag.
func TestRunRefusesBadFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"tokenlab with a path", []string{"-addr", "127.0.0.1:0", "-tokenlab", "http://localhost:8080/embed.js"}, "-tokenlab"},
		{"tokenlab without a scheme", []string{"-addr", "127.0.0.1:0", "-tokenlab", "localhost:8080"}, "-tokenlab"},
		{"address in use", []string{"-addr", busy.Addr().String()}, "-addr"},
		{"unknown flag", []string{"-port", "3000"}, "-port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // were it to start serving, it would stop at once
			err := run(ctx, tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error naming %s", tt.args, err, tt.want)
			}
		})
	}
}
