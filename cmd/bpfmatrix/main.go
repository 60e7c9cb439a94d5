// Command bpfmatrix runs the eBPF compatibility matrix: it boots kernels (or
// uses the host's), runs the suites in them and writes the report.
//
// Exit codes: 0 every cell as expected; 1 unexpected cells or a regression;
// 2 bad input or a missing tool.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand: bpfmatrix <name> [flags] [args].
type command struct {
	summary string
	run     func(args []string) error
}

// commands is filled by the files of this package, one per subcommand.
var commands = map[string]command{
	"version": {"print the version", func([]string) error { fmt.Println("bpfmatrix", version); return nil }},
}

// usageError is bad input: exit 2, one line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func badInput(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// unexpectedError means the run found unexpected cells or broken runs, or
// could not save them: exit 1.
type unexpectedError struct{ msg string }

func (e unexpectedError) Error() string { return e.msg }

// interrupted is the cause of a command stopped by a signal: it exits
// 128+signal, as a shell reports a process the signal killed.
type interrupted struct{ sig syscall.Signal }

func (e interrupted) Error() string { return "interrupted by " + unix.SignalName(e.sig) }

// Is makes an interrupt a cancellation to code that checks for one.
func (e interrupted) Is(target error) bool { return target == context.Canceled }

// notifyInterrupt returns a context cancelled at the first SIGINT or
// SIGTERM, with an interrupted cause that names the signal; stop ends the
// watch. Targets and builds stop by the context, and their results say
// which signal stopped them.
func notifyInterrupt() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			cancel(interrupted{sig.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// stoppedBy is err, or the signal that stopped ctx when it did: a command
// cut short by Ctrl-C says so and exits 130, whatever its work said.
func stoppedBy(ctx context.Context, err error) error {
	var sig interrupted
	if err != nil && errors.As(context.Cause(ctx), &sig) && !errors.As(err, &sig) {
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
		return sig
	}
	return err
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	if arg := os.Args[1]; arg == "-h" || arg == "--help" || arg == "help" {
		usage()
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "bpfmatrix: unknown command %q; run 'bpfmatrix help'\n", os.Args[1])
		os.Exit(2)
	}
	err := cmd.run(os.Args[2:])
	var unexpected unexpectedError
	var stopped interrupted
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.As(err, &stopped):
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
		os.Exit(128 + int(stopped.sig))
	case errors.As(err, &unexpected):
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bpfmatrix <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", name, commands[name].summary)
	}
}

// newFlags returns a flag set for a subcommand with the common -v flag,
// which turns on slog diagnostics (off by default).
func newFlags(name string) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("bpfmatrix "+name, flag.ContinueOnError)
	// The flag package prints a bad value's error, then the usage; Parse
	// returns the error too, which main prints as the one line. So the
	// usage goes out only when nothing was printed before it: for -h.
	var printed bytes.Buffer
	fs.SetOutput(&printed)
	fs.Usage = func() {
		if printed.Len() > 0 {
			return
		}
		fs.SetOutput(os.Stderr)
		fmt.Fprintf(os.Stderr, "usage of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	verbose := fs.Bool("v", false, "print diagnostics")
	return fs, verbose
}

func setupLog(verbose bool) {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
