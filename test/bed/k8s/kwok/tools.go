//go:build tools

// Records the commands this module builds so that `go mod tidy` keeps their dependencies in go.sum.
// Never compiled (build tag "tools"); install-kubernetes.sh runs `go build` on each package directly.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
