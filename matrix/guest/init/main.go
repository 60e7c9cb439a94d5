// Command init is a bpfmatrix VM guest's /init. It is built static
// (CGO_ENABLED=0) and packed into the initramfs by matrix/vm; see
// guest.Main for what it does.
package main

import "github.com/bpfmatrix/bpfmatrix/matrix/guest"

func main() { guest.Main() }
