//go:build tools

// Package tools pins the Helm CLI that the sandbox builds (test/bed/install-helm.sh). Gantry runs only
// `helm template` (rendering; it never installs into a cluster).
package tools

import _ "helm.sh/helm/v4/cmd/helm"
