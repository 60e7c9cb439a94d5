package usertarget

import _ "embed"

// targetELF is the target built for arm64 (internal/build).
//
//go:embed testdata/target-arm64
var targetELF []byte
