package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// benchStats are the medians of one Go benchmark over its -count runs.
type benchStats struct {
	runs                    int
	nsPerOp, bPerOp, allocs float64
}

// runGoBench runs `go test -bench` for pattern in pkg, count times
// each, and returns the medians by benchmark name (without the -GOMAXPROCS
// suffix). The raw output is appended to w.
func runGoBench(ctx context.Context, goCmd, pkg, pattern string, count int, w io.Writer) (map[string]benchStats, error) {
	cmd := exec.CommandContext(ctx, goCmd, "test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count), pkg)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	w.Write(out)
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s: %w", pkg, err)
	}
	return parseGoBench(string(out)), nil
}

// parseGoBench reads `go test -bench -benchmem` output and returns the
// median of each benchmark's ns/op, B/op and allocs/op.
func parseGoBench(out string) map[string]benchStats {
	type samples struct{ ns, b, allocs []float64 }
	all := map[string]*samples{}
	var order []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		s := all[name]
		if s == nil {
			s = &samples{}
			all[name] = s
			order = append(order, name)
		}
		// f[1] is the iteration count; then value/unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.b = append(s.b, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	res := make(map[string]benchStats, len(all))
	for _, name := range order {
		s := all[name]
		res[name] = benchStats{runs: len(s.ns), nsPerOp: median(s.ns), bPerOp: median(s.b), allocs: median(s.allocs)}
	}
	return res
}
