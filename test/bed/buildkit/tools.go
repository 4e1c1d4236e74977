//go:build tools

// Package tools pins BuildKit's daemon and client that the sandbox builds (test/bed/install-docker.sh).
package tools

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
