package debian

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/bpfmatrix/bpfmatrix/internal/tools"
)

// VerifyInRelease checks the OpenPGP signature of an InRelease file against
// keyring (the Debian archive keyring, tools.DebianArchiveKeyring, unless
// a test signs its own archive), the way apt does, and returns only the
// signed text (gpgv's --output), so nothing outside the signature is
// trusted. At least one good signature is required and no bad one is
// accepted; a signature by a key the keyring lacks is reported by key id.
// A check that ran to its end and failed is a *SignatureError; one that
// ctx cut short says "interrupted" and is no verdict on the file. gpgv is
// installed through internal/tools when missing, with progress on log.
func VerifyInRelease(ctx context.Context, path, keyring string, log io.Writer) ([]byte, error) {
	gpgv, err := tools.Need(ctx, log, "gpgv")
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, gpgv, "--status-fd", "2", "--keyring", keyring, "--output", "-", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if runErr != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("signature check of %s interrupted: %w", path, context.Cause(ctx))
	}
	st := parseGpgvStatus(stderr.Bytes())
	switch {
	case len(st.bad) > 0:
		return nil, &SignatureError{path, "BAD signature by key " + strings.Join(st.bad, ", "), true}
	case len(st.valid) == 0 && len(st.missing) > 0:
		return nil, &SignatureError{path, fmt.Sprintf("signed by key %s, which %s lacks: update debian-archive-keyring", strings.Join(st.missing, ", "), keyring), false}
	case len(st.valid) == 0:
		return nil, &SignatureError{path, fmt.Sprintf("no valid signature (gpgv: %v: %s)", runErr, lastLine(stderr.Bytes())), st.noData}
	}
	return stdout.Bytes(), nil
}

// SignatureError is a gpgv run that found no good signature. Condemns is
// set when the file is at fault (a bad signature, or no signed data at
// all), not the keyring (an unknown key, an unreadable keyring): only such
// a file is worth deleting.
type SignatureError struct {
	Path, Reason string
	Condemns     bool
}

func (e *SignatureError) Error() string { return e.Path + ": " + e.Reason }

type gpgvStatus struct {
	valid, bad, missing []string
	noData              bool // the input holds no OpenPGP data: unsigned or cut short
}

// parseGpgvStatus reads gpgv's machine-readable "[GNUPG:] KEYWORD args"
// lines (doc/DETAILS of GnuPG).
func parseGpgvStatus(b []byte) gpgvStatus {
	var st gpgvStatus
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 3 || f[0] != "[GNUPG:]" {
			continue
		}
		switch f[1] {
		case "VALIDSIG":
			st.valid = append(st.valid, f[2])
		case "BADSIG":
			st.bad = append(st.bad, f[2])
		case "NO_PUBKEY":
			st.missing = append(st.missing, f[2])
		case "NODATA":
			st.noData = true
		}
	}
	return st
}

// lastLine returns the last non-empty line of b, for one-line errors.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
