package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bpfmatrix/bpfmatrix/vmimages"
)

func init() {
	commands["kernels"] = command{"list the kernel catalog (list) or fetch kernels into the cache (fetch KERNEL...)", kernels}
}

func kernels(args []string) error {
	if len(args) == 0 {
		return badInput("usage: bpfmatrix kernels list | fetch KERNEL... (KERNEL: %v, all, or the path of a bzImage or, with --arch arm64, an Image)", vmimages.Names()[1:])
	}
	sub, args := args[0], args[1:]
	fs, verbose := newFlags("kernels " + sub)
	flavor := fs.String("flavor", envOr("FLAVOR", "cloud"), "Debian kernel flavor: cloud or generic (env FLAVOR)")
	arch := fs.String("arch", vmimages.Arches[0], "Debian architecture of the kernels: "+strings.Join(vmimages.Arches, " or "))
	cache := fs.String("cache", vmimages.DefaultCacheDir(), "cache directory")
	asJSON := fs.Bool("json", false, "list: print the catalog as JSON, one object per kernel (a CI matrix's plan)")
	fallback := fs.Bool("allow-fallback", false, "when a suite of a kernel cannot be read and verified, resolve it from its other suites, which may give an older kernel (env "+vmimages.AllowFallbackEnv+"=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	setupLog(*verbose)
	ctx, stop := notifyInterrupt()
	defer stop()
	opts := vmimages.Options{Flavor: *flavor, Arch: *arch, CacheDir: *cache, Log: os.Stderr, AllowFallback: *fallback}
	if *flavor != "cloud" && *flavor != "generic" {
		return badInput("flavor %q: want cloud or generic", *flavor)
	}
	if !slices.Contains(vmimages.Arches, *arch) {
		return badInput("--arch %q: want %s", *arch, strings.Join(vmimages.Arches, " or "))
	}
	switch sub {
	case "list":
		if fs.NArg() > 0 {
			return badInput("kernels list takes no arguments")
		}
		return stoppedBy(ctx, listKernels(ctx, opts, *asJSON))
	case "fetch":
		names := fs.Args()
		if len(names) == 1 && names[0] == "all" {
			names = vmimages.Names()[1:]
		}
		if len(names) == 0 {
			return badInput("usage: bpfmatrix kernels fetch KERNEL... (KERNEL: %v, all, or the path of a bzImage or, with --arch arm64, an Image)", vmimages.Names()[1:])
		}
		return stoppedBy(ctx, fetchKernels(ctx, names, opts))
	}
	return badInput("kernels %s: unknown subcommand, want list or fetch", sub)
}

// listedKernel is one kernel of `kernels list --json`: what a CI plan
// job fans out over, and what keys its kernel cache (so nothing that
// changes when the cache fills, such as whether it is cached).
type listedKernel struct {
	Kernel  string `json:"kernel"`
	Arch    string `json:"arch"`
	Suite   string `json:"suite"`
	Package string `json:"package"`
	Version string `json:"version"`
	Bytes   int64  `json:"bytes"`
}

// listKernels prints what each catalog name resolves to today; a name
// that does not resolve gets a row of dashes (in JSON: none) and its
// reason on stderr.
func listKernels(ctx context.Context, opts vmimages.Options, asJSON bool) error {
	quiet := opts
	quiet.Log = nil
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "KERNEL\tARCH\tSUITE\tPACKAGE\tVERSION\tDOWNLOAD\tCACHED")
	}
	listed := []listedKernel{}
	failed := 0
	for _, e := range vmimages.Catalog {
		r, err := vmimages.Resolve(ctx, e.Name, quiet)
		if err != nil {
			if !asJSON {
				fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\n", e.Name, opts.Arch)
			}
			fmt.Fprintln(os.Stderr, "bpfmatrix:", err)
			failed++
			continue
		}
		printSkipped(e.Name, r.Suite, r.Skipped)
		if asJSON {
			listed = append(listed, listedKernel{Kernel: e.Name, Arch: r.Arch, Suite: r.Suite, Package: r.Package, Version: r.Version, Bytes: r.Size})
			continue
		}
		cached := "no"
		if r.Cached {
			cached = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f MB\t%s\n", e.Name, r.Arch, r.Suite, r.Package, r.Version, float64(r.Size)/1e6, cached)
	}
	tw.Flush()
	if asJSON {
		// One line: what a CI step appends to $GITHUB_OUTPUT as it is.
		out, _ := json.Marshal(listed)
		fmt.Println(string(out))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d kernels did not resolve (reasons above)", failed, len(vmimages.Catalog))
	}
	return nil
}

// printSkipped says on stderr which suites a fallback left out.
func printSkipped(name, suite string, skipped []vmimages.SkippedSuite) {
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "bpfmatrix: kernel %s resolved from %s, leaving out suite %s: %s\n", name, suite, s.Suite, s.Reason)
	}
}

// fetchKernels fetches each kernel and prints where it landed; a fallback
// is on stderr already, through the fetch's log.
func fetchKernels(ctx context.Context, names []string, opts vmimages.Options) error {
	for _, name := range names {
		start := time.Now()
		k, err := vmimages.Fetch(ctx, name, opts)
		var unknown *vmimages.UnknownError
		if errors.As(err, &unknown) {
			return badInput("%s", err)
		}
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\t%s %s\t%.1fs\n\tarch    %s\n\tsuite   %s\n\tkernel  %s\n\tmodules %s\n\tconfig  %s\n",
			name, k.Release, k.Package, k.Version, time.Since(start).Seconds(), k.Arch, k.Suite, k.Vmlinux, k.ModulesDir, k.Config)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
