// Package features probes what the running kernel can load: every program
// type, every map type, helpers per program type, and miscellaneous probes
// (bounded loops, instruction limits, ISA versions, link types).
package features
