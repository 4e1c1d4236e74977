// Package ext stands in for github.com/traefik/traefik/dynamic/ext, an extension point of Traefik's dynamic
// configuration that Traefik's own go.mod replaces with a directory (./pkg/config/dynamic/ext) its published
// module zip does not contain, and that the module proxy does not serve. Traefik v3.7.13 uses exactly two of
// its types, embedded inline in dynamic.HTTPConfiguration and dynamic.Router, and reads none of their fields:
// as empty structs they add no configuration options.
package ext

// HTTP is embedded in Traefik's dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in Traefik's dynamic.Router.
type Router struct{}
