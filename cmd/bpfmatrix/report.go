package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/reports"
	"github.com/bpfmatrix/bpfmatrix/reports/html"
	"github.com/bpfmatrix/bpfmatrix/reports/markdown"
)

func init() {
	commands["report"] = command{"render, merge or diff reports: report render|merge|diff", reportCommand}
}

// Names of the rendered files, next to report.json.
const (
	htmlFile    = "index.html"
	summaryFile = "summary.md"
	reportFile  = "report.json"
)

// writeRendered writes the human-readable forms of rep next to report.json:
// index.html (the matrix) and summary.md (for a CI job summary, as opt
// says: against which baseline, pointing where).
func writeRendered(rep *reports.Report, out string, opt markdown.Options) error {
	if err := writeFile(filepath.Join(out, htmlFile), func(w io.Writer) error { return html.Write(w, rep) }); err != nil {
		return err
	}
	return writeFile(filepath.Join(out, summaryFile), func(w io.Writer) error { return markdown.Write(w, rep, opt) })
}

const reportUsage = `usage:
  bpfmatrix report render IN.json... [--out DIR] [--baseline OLD.json] [--html-url URL] [--insns-threshold PCT]
                                                   write DIR/index.html and DIR/summary.md (and the merged DIR/report.json);
                                                   the summary lists regressions and changes against OLD.json and links
                                                   the HTML report at URL (default: index.html beside it)
  bpfmatrix report merge A.json B.json...          print the merged report (CI shards) on stdout: runs of the same kernel,
                                                   arch and target are one column
  bpfmatrix report check IN.json...                exit 1 when a cell is unexpected or a run did not end well
  bpfmatrix report diff OLD.json NEW.json [--insns-threshold PCT]
                                                   list changes; exit 1 on a regression: supported -> anything else, or an
                                                   object program that lost a stage or whose verifier processed more than
                                                   PCT% (default 10) more instructions`

func reportCommand(args []string) error {
	if len(args) == 0 {
		return badInput("report: missing subcommand\n%s", reportUsage)
	}
	switch args[0] {
	case "render":
		return reportRender(args[1:])
	case "merge":
		return reportMerge(args[1:])
	case "diff":
		return reportDiff(args[1:])
	case "check":
		return reportCheck(args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(os.Stderr, reportUsage)
		return flag.ErrHelp
	}
	return badInput("report: unknown subcommand %q; want render, merge or diff", args[0])
}

func reportRender(args []string) error {
	fs, verbose := newFlags("report render")
	out := fs.String("out", "reports/out", "output directory")
	baseline := fs.String("baseline", "", "a report.json (the last published one) the summary lists regressions and changes against")
	htmlURL := fs.String("html-url", markdown.DefaultHTMLURL, "where the summary links the HTML report: a relative path or an http(s) URL")
	threshold := percent(defaultInsnsThreshold)
	fs.Var(&threshold, "insns-threshold", "growth of an object program's verifier instructions processed, in percent, that is a regression against --baseline")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	setupLog(*verbose)
	if len(files) == 0 {
		return badInput("report render: no input; want one or more report.json files")
	}
	if err := checkLinkURL(*htmlURL); err != nil {
		return badInput("--html-url %q: %v", *htmlURL, err)
	}
	reps, err := load(files, *out)
	if err != nil {
		return err
	}
	rep := reports.Merge(reps...)
	opt := markdown.Options{HTMLURL: *htmlURL}
	if *baseline != "" {
		if strings.Contains(*baseline, "://") {
			return badInput("--baseline %s: want a file path; download the report first (curl -fsSLo old.json URL)", *baseline)
		}
		old, err := reports.Load(*baseline)
		if err != nil {
			return badInput("--baseline: %v", err)
		}
		opt.Diff, opt.Baseline = reports.Compare(old, rep, float64(threshold)), *baseline
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if !sameFile(files, filepath.Join(*out, reportFile)) {
		if err := writeFile(filepath.Join(*out, reportFile), func(w io.Writer) error { return encode(w, rep) }); err != nil {
			return err
		}
	}
	if err := writeRendered(rep, *out, opt); err != nil {
		return err
	}
	reportConflicts(rep)
	fmt.Fprintf(os.Stderr, "wrote %s and %s\n", filepath.Join(*out, htmlFile), filepath.Join(*out, summaryFile))
	return nil
}

func reportMerge(args []string) error {
	rep, err := mergedInput("merge", args)
	if err != nil {
		return err
	}
	reportConflicts(rep)
	return encode(os.Stdout, rep)
}

// reportCheck judges reports as `run` judges its own: exit 1 when a cell is
// unexpected or a run did not end well, with the counts in one line. A CI
// job that merged the shards of a matrix gates on it.
func reportCheck(args []string) error {
	rep, err := mergedInput("check", args)
	if err != nil {
		return err
	}
	if err := verdict(rep); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d runs, %d cells, none unexpected\n", len(rep.Runs), cellCount(rep))
	return nil
}

// mergedInput reads the report files of `report sub`'s arguments, merged.
func mergedInput(sub string, args []string) (*reports.Report, error) {
	fs, verbose := newFlags("report " + sub)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	setupLog(*verbose)
	if len(files) == 0 {
		return nil, badInput("report %s: no input; want one or more report.json files", sub)
	}
	// Written to standard output: the files are relative to where the
	// command runs, as a redirect into a file here wants them.
	reps, err := load(files, ".")
	if err != nil {
		return nil, err
	}
	return reports.Merge(reps...), nil
}

func cellCount(rep *reports.Report) int {
	n := 0
	for _, run := range rep.Runs {
		n += len(run.Cells)
	}
	return n
}

// defaultInsnsThreshold is how much more work of the verifier, in percent,
// an object program may cost before report diff calls it a regression:
// enough to pass a kernel's small changes of its verifier, not a program
// heading for the limit.
const defaultInsnsThreshold = 10

func reportDiff(args []string) error {
	fs, verbose := newFlags("report diff")
	threshold := percent(defaultInsnsThreshold)
	fs.Var(&threshold, "insns-threshold", "growth of an object program's verifier instructions processed, in percent, that is a regression")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	setupLog(*verbose)
	if len(files) != 2 {
		return badInput("report diff: got %d files; want OLD.json NEW.json", len(files))
	}
	reps, err := load(files, ".")
	if err != nil {
		return err
	}
	d := reports.Compare(reps[0], reps[1], float64(threshold))
	if err := d.WriteText(os.Stdout); err != nil {
		return err
	}
	if n := d.Regressions(); n > 0 {
		noun := "regressions"
		if n == 1 {
			noun = "regression"
		}
		return unexpectedError{fmt.Sprintf("%d %s from %s to %s", n, noun, files[0], files[1])}
	}
	return nil
}

// checkLinkURL accepts what a summary may link to: a relative path, or an
// absolute http(s) URL; never another scheme (javascript:, file:).
func checkLinkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("empty; want a relative path such as index.html or an https:// URL")
	case err != nil:
		return errors.New("not a URL; want a relative path such as index.html or an https:// URL")
	case u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %s: want a relative path such as index.html or an http(s) URL", u.Scheme)
	case u.Scheme != "" && u.Host == "":
		return errors.New("no host; want an http(s) URL such as https://example.org/matrix/")
	}
	return nil
}

// percent is a flag value in percent, "10" or "10%": at least 0, finite.
type percent float64

func (p *percent) String() string { return strconv.FormatFloat(float64(*p), 'g', -1, 64) }

func (p *percent) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return errors.New("want a percentage of at least 0, such as 10 or 10%")
	}
	*p = percent(v)
	return nil
}

// load reads every report; a bad one is bad input naming the file and field.
// The runs' files are made relative to dir, where the output goes.
func load(files []string, dir string) ([]*reports.Report, error) {
	reps, err := reports.LoadAll(files...)
	if err != nil {
		return nil, badInput("%v", err)
	}
	for i, rep := range reps {
		rep.RebaseFiles(filepath.Dir(files[i]), dir)
	}
	return reps, nil
}

// reportConflicts says on stderr that merged shards disagree; the cells stay
// in the report and the page shows them.
func reportConflicts(rep *reports.Report) {
	if cs := rep.Conflicts(); len(cs) > 0 {
		var names []string
		for i, c := range cs {
			if i == 3 {
				names = append(names, "...")
				break
			}
			names = append(names, c.Feature+" on "+c.Run.String())
		}
		fmt.Fprintf(os.Stderr, "%d conflicting cells kept (the same cell with different statuses): %s\n", len(cs), strings.Join(names, ", "))
	}
}

// parseInterspersed parses flags that may come after positional arguments
// ("render a.json b.json --out DIR"), which package flag alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func encode(w io.Writer, rep *reports.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeFile writes path atomically through render, so a browser or CI
// upload never sees half a page.
func writeFile(path string, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// sameFile reports whether the only input is path itself, which render
// then leaves as it is.
func sameFile(files []string, path string) bool {
	if len(files) != 1 {
		return false
	}
	a, errA := os.Stat(files[0])
	b, errB := os.Stat(path)
	return errA == nil && errB == nil && os.SameFile(a, b)
}
