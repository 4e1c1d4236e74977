//go:build tools

// Records the commands this module builds so that `go mod tidy` keeps their dependencies in go.sum.
// Never compiled (build tag "tools"); install-kubernetes.sh runs `go build` on each package directly.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
