package inventory

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/kfuncs"
	"github.com/bpfmatrix/bpfmatrix/reports"
)

//go:embed watchlist.txt
var watchList []byte

// Watch is the project's watch list (watchlist.txt) and every kfunc the
// kfunc cells call (internal/kfuncs): the probepoints suite looks up its
// tracepoints and functions inside each target, the runner its fields and
// kfuncs in each kernel's BTF. A malformed list stops every program that
// imports the package at start, naming the line.
var Watch = func() []Point {
	points, err := parseWatchList("watchlist.txt", bytes.NewReader(watchList))
	if err != nil {
		panic(err)
	}
	listed := map[Point]bool{}
	for _, p := range points {
		listed[p] = true
	}
	for _, name := range kfuncs.Names() {
		if p := (Point{Kind: reports.PointKfunc, Name: name}); !listed[p] {
			listed[p] = true
			points = append(points, p)
		}
	}
	return points
}()

// Point is one entry of a watch list: a tracepoint ("system/event"), a
// kernel function, a struct field ("task_struct.__state") or a kfunc.
type Point struct {
	Kind string // reports.PointTracepoint, PointFunction, PointField or PointKfunc
	Name string
}

// InBTF says whether the point is looked up in the kernel's BTF by the
// runner, on the host (fields and kfuncs), rather than inside the target.
func (p Point) InBTF() bool {
	return p.Kind == reports.PointField || p.Kind == reports.PointKfunc
}

// fieldPath is a struct or union name and one or more member names.
var fieldPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

// parseWatchList reads a watch list: one point per line, "tracepoint
// system/event", "function name", "field struct.member[.member...]" or
// "kfunc name"; blank lines and # comments are ignored. name is used in
// errors.
func parseWatchList(name string, r io.Reader) ([]Point, error) {
	var points []Point
	seen := map[Point]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		want := `want "tracepoint system/event", "function name", "field struct.member" or "kfunc name"`
		if len(fields) != 2 {
			return nil, fmt.Errorf("watch list %s line %d: %q: %s", name, line, strings.TrimSpace(text), want)
		}
		p := Point{Kind: fields[0], Name: fields[1]}
		switch p.Kind {
		case reports.PointTracepoint:
			if sys, ev, ok := strings.Cut(p.Name, "/"); !ok || sys == "" || ev == "" || strings.Contains(ev, "/") {
				return nil, fmt.Errorf("watch list %s line %d: tracepoint %q: want system/event, such as syscalls/sys_enter_openat", name, line, p.Name)
			}
		case reports.PointFunction, reports.PointKfunc:
			if strings.ContainsAny(p.Name, "/:().") {
				return nil, fmt.Errorf("watch list %s line %d: %s %q: want a kernel symbol, such as vfs_read", name, line, p.Kind, p.Name)
			}
		case reports.PointField:
			if !fieldPath.MatchString(p.Name) {
				return nil, fmt.Errorf("watch list %s line %d: field %q: want struct.member, such as task_struct.pid or sock.__sk_common.skc_daddr", name, line, p.Name)
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
