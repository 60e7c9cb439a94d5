package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeShowsRealCode checks that every code block of the README's
// "Adding a feature" section is code of the tree: each block names its file
// in its first line, and its other lines must stand in that file in that
// order, one after the other (indentation aside). The files compile into
// the suite, so the example does too, and it cannot drift from them.
func TestReadmeShowsRealCode(t *testing.T) {
	const root = "../.."
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Adding a feature\n")
	if !ok {
		t.Fatal("README.md has no section \"## Adding a feature\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := codeBlocks(section)
	if len(blocks) < 3 {
		t.Fatalf("README.md's \"Adding a feature\" shows %d code blocks, want the row, the C function and the spec", len(blocks))
	}
	for _, b := range blocks {
		path, ok := strings.CutPrefix(b[0], "// ")
		if !ok {
			t.Errorf("README.md: a code block starts with %q, not with // and the file it is from", b[0])
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Errorf("README.md shows code of %s: %v", path, err)
			continue
		}
		if !containsLines(trimmed(strings.Split(string(src), "\n")), b[1:]) {
			t.Errorf("README.md shows code that is not in %s:\n%s", path, strings.Join(b[1:], "\n"))
		}
	}
}

// codeBlocks returns the fenced code blocks of markdown, each as its lines
// with surrounding whitespace removed.
func codeBlocks(markdown string) [][]string {
	var blocks [][]string
	var cur []string
	in := false
	for _, line := range trimmed(strings.Split(markdown, "\n")) {
		switch {
		case strings.HasPrefix(line, "```") && !in:
			in, cur = true, nil
		case strings.HasPrefix(line, "```"):
			in = false
			if len(cur) > 0 {
				blocks = append(blocks, cur)
			}
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

func trimmed(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// containsLines reports whether want stands in lines as a contiguous run.
func containsLines(lines, want []string) bool {
	for i := 0; i+len(want) <= len(lines); i++ {
		if strings.Join(lines[i:i+len(want)], "\n") == strings.Join(want, "\n") {
			return true
		}
	}
	return false
}
