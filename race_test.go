//go:build race

package main

// raceBuild makes the race-enabled test run build gnc itself with -race,
// so the binary's own goroutines are checked, not only the tests'.
const raceBuild = true
