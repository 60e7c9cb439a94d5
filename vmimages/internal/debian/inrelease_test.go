package debian

import "testing"

func TestParseGpgvStatus(t *testing.T) {
	const out = `[GNUPG:] NEWSIG
[GNUPG:] GOODSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm)
[GNUPG:] VALIDSIG 4CB50190207B4758A3F73A796ED0E7B82643E131 2026-10-30 1793347767 0 4 0 1 8 01 B8B8
[GNUPG:] NEWSIG
[GNUPG:] ERRSIG 78DBA3BC47EF2265 1 8 01 1793347770 9 -
[GNUPG:] NO_PUBKEY 78DBA3BC47EF2265
gpgv: Can't check signature: No public key
`
	st := parseGpgvStatus([]byte(out))
	if len(st.valid) != 1 || st.valid[0] != "4CB50190207B4758A3F73A796ED0E7B82643E131" ||
		len(st.missing) != 1 || st.missing[0] != "78DBA3BC47EF2265" || len(st.bad) != 0 {
		t.Errorf("got %+v", st)
	}
	st = parseGpgvStatus([]byte("[GNUPG:] BADSIG 6ED0E7B82643E131 Debian\n"))
	if len(st.bad) != 1 || len(st.valid) != 0 || st.noData {
		t.Errorf("BADSIG: got %+v", st)
	}
	// What gpgv says of an unsigned or truncated file.
	st = parseGpgvStatus([]byte("gpgv: no valid OpenPGP data found.\n[GNUPG:] NODATA 1\n[GNUPG:] NODATA 2\n"))
	if !st.noData || len(st.valid)+len(st.bad)+len(st.missing) != 0 {
		t.Errorf("NODATA: got %+v", st)
	}
}
