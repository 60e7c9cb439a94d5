package usertarget

import _ "embed"

// targetELF is the target built for amd64 (internal/build).
//
//go:embed testdata/target-amd64
var targetELF []byte
