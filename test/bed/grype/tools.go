//go:build tools

// Package tools pins the grype CLI that the sandbox builds (test/bed/install-grype.sh). The database helper
// in ./grypedb is built from this same module, so the v6 writer it uses is the one this grype reads.
package tools

import _ "github.com/anchore/grype/cmd/grype"
