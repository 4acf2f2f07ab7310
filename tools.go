//go:build tools

// This file pins the code generators the build uses, so `go generate` runs the
// versions recorded in go.mod.
package main

import (
	_ "github.com/99designs/gqlgen"
)
