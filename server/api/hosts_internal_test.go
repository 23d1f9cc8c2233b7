package api

import (
	"testing"

	"github.com/tokenlab/tokenlab/server/config"
)

// The Host check runs before every renewal: on an allowed Host it must
// not allocate.
func TestHostCheckDoesNotAllocate(t *testing.T) {
	s := newHostSet(config.Config{Host: "mybox.lan", AllowedHosts: []string{"tokenlab.test", ".dev.example"}})
	hosts := []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080", "mybox.lan", "tokenlab.test:443", "app.dev.example"}
	allocs := testing.AllocsPerRun(100, func() {
		for _, h := range hosts {
			if !s.allows(h) {
				t.Fatalf("%s refused", h)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per check of an allowed Host", allocs/float64(len(hosts)))
	}
}

func BenchmarkHostCheck(b *testing.B) {
	s := newHostSet(config.Config{AllowedHosts: []string{"tokenlab.test"}})
	for _, h := range []string{"localhost:8080", "127.0.0.1:8080", "tokenlab.test", "evil.example:8080"} {
		b.Run(h, func(b *testing.B) {
			for b.Loop() {
				s.allows(h)
			}
		})
	}
}
