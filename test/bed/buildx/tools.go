//go:build tools

// Package tools pins the docker buildx CLI plugin that the sandbox builds (test/bed/install-docker.sh).
package tools

import _ "github.com/docker/buildx/cmd/buildx"
