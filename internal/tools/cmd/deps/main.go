// Command deps makes sure the tools of the groups named on its command
// line are installed (see package tools): scripts/deps.sh runs it for each
// make target, with no group at all when the target needs none (make
// matrix KERNEL=host). Exit status 2 says a tool is missing and could not
// be installed here, or a group is unknown; the one line on stderr says
// what to do.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintf(os.Stderr, "usage: deps GROUP... (groups: %s)\n", strings.Join(tools.Groups(), ", "))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := tools.Ensure(ctx, os.Stderr, os.Args[1:]...); err != nil {
		fmt.Fprintln(os.Stderr, "deps:", err)
		stop()
		os.Exit(2)
	}
}
