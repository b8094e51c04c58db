//go:build !(linux || darwin || freebsd)

package main

import "os"

// redirectStderr is a no-op where dup2 is not available.
func redirectStderr(*os.File) (func(), error) { return func() {}, nil }
