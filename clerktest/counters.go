package clerktest

import "sync/atomic"

// Endpoint names an emulated endpoint, for counters and per-endpoint faults.
type Endpoint string

// The emulated endpoints. EndpointMachines stands for every /machines path.
const (
	EndpointCreate   Endpoint = "POST /m2m_tokens"
	EndpointList     Endpoint = "GET /m2m_tokens"
	EndpointRevoke   Endpoint = "POST /m2m_tokens/{id}/revoke"
	EndpointVerify   Endpoint = "POST /m2m_tokens/verify"
	EndpointJWKS     Endpoint = "GET /jwks"
	EndpointMachines Endpoint = "/machines"
)

// Endpoints lists every Endpoint.
var Endpoints = []Endpoint{EndpointCreate, EndpointList, EndpointRevoke, EndpointVerify, EndpointJWKS, EndpointMachines}

// counters holds one atomic counter per endpoint; the map is never written
// after construction.
type counters map[Endpoint]*atomic.Int64

func newCounters() counters {
	c := make(counters, len(Endpoints))
	for _, e := range Endpoints {
		c[e] = new(atomic.Int64)
	}
	return c
}

// Calls returns how many requests arrived at endpoint e since the start or the
// last ResetCalls, faulted and refused ones included. Requests to unknown
// paths, with a wrong method, and set-up through Go are not counted.
func (s *Server) Calls(e Endpoint) int64 {
	if c, ok := s.counters[e]; ok {
		return c.Load()
	}
	return 0
}

// ResetCalls sets every counter to zero.
func (s *Server) ResetCalls() {
	for _, c := range s.counters {
		c.Store(0)
	}
}
