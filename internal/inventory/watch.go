package inventory

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
)

// Point is one entry of a watch list: a tracepoint ("system/event") or a
// kernel function, which each target looks up.
type Point struct {
	Kind string // reports.PointTracepoint or reports.PointFunction
	Name string
}

// ParseWatchList reads a watch list: one point per line, "tracepoint
// system/event" or "function name"; blank lines and # comments are ignored.
// name is used in errors.
func ParseWatchList(name string, r io.Reader) ([]Point, error) {
	var points []Point
	seen := map[Point]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		want := `want "tracepoint system/event" or "function name"`
		if len(fields) != 2 {
			return nil, fmt.Errorf("watch list %s line %d: %q: %s", name, line, strings.TrimSpace(text), want)
		}
		p := Point{Kind: fields[0], Name: fields[1]}
		switch p.Kind {
		case reports.PointTracepoint:
			if sys, ev, ok := strings.Cut(p.Name, "/"); !ok || sys == "" || ev == "" || strings.Contains(ev, "/") {
				return nil, fmt.Errorf("watch list %s line %d: tracepoint %q: want system/event, such as syscalls/sys_enter_openat", name, line, p.Name)
			}
		case reports.PointFunction:
			if strings.ContainsAny(p.Name, "/:()") {
				return nil, fmt.Errorf("watch list %s line %d: function %q: want a kernel symbol, such as vfs_read", name, line, p.Name)
			}
		default:
			return nil, fmt.Errorf("watch list %s line %d: kind %q: %s", name, line, p.Kind, want)
		}
		if seen[p] {
			return nil, fmt.Errorf("watch list %s line %d: %s %s is listed twice", name, line, p.Kind, p.Name)
		}
		seen[p] = true
		points = append(points, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("watch list %s: %w", name, err)
	}
	return points, nil
}
