// Package ext stands in for github.com/traefik/traefik/dynamic/ext, an extension point of Traefik's dynamic
// configuration that Traefik's own go.mod replaces with a directory (./pkg/config/dynamic/ext) its published
// module zip does not contain, and that the module proxy does not serve. Traefik v3.7.13 uses exactly two of
// its types, embedded inline (no fields read) in dynamic.HTTPConfiguration and dynamic.Router: empty structs
// keep that configuration what upstream's open-source build reads.
package ext

// HTTP is embedded in Traefik's dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in Traefik's dynamic.Router.
type Router struct{}
