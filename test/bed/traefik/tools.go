//go:build tools

// Keeps Traefik's command in this module's graph, so `go build github.com/traefik/traefik/v3/cmd/traefik`
// from here builds it with the replace directives of go.mod.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
