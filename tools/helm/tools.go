//go:build tools

// Package tools pins Helm: `go build helm.sh/helm/v3/cmd/helm` in this module builds
// the version in go.mod, verified by go.sum.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
