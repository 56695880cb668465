// Package wire holds the small facts of the formats m2mauth speaks, each
// defined once for every package of the module: the RFC 6750 / RFC 7235
// token68 character set of bearer tokens, the shape and reserved claims of
// Clerk's M2M JWTs, and HTTP delay-seconds.
//
// Everything here is a pure function or a constant: safe for concurrent use,
// no allocation, no I/O.
package wire
