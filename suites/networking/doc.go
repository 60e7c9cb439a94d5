// Package networking proves the networking attach mechanisms: each spec
// attaches a program inside a network namespace and veth pair it creates,
// sends the traffic itself, and records what the program saw.
package networking
