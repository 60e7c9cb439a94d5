// Package debian reads Debian's archive the way apt and dpkg do: apt's
// sources (sources.list and deb822), control files (Packages and Release
// indexes), an InRelease file's OpenPGP signature (checked with gpgv),
// package versions (in deb-version(7) order) and .deb archives. It knows
// nothing of kernels.
package debian
