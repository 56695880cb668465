package clerktest

import (
	"net/http"
	"strings"
)

// caller is who sent a request: the instance (Clerk secret key) or a machine.
type caller struct {
	instance  bool
	machineID string // set when authenticated with a machine secret key
}

// authenticate checks the Authorization header. It answers 401 with
// machine_secret_key_invalid for an unknown ak_… key and unauthorized otherwise.
func (s *Server) authenticate(r *http.Request) (caller, *apiError) {
	h := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		key, ok = strings.CutPrefix(h, "bearer ")
	}
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return caller{}, errUnauthorized()
	}
	if constantTimeEqual(key, s.SecretKey) {
		return caller{instance: true}, nil
	}
	s.mu.Lock()
	m := s.st.machineByKey(key, s.now())
	var id string
	if m != nil {
		id = m.id
	}
	s.mu.Unlock()
	if id != "" {
		return caller{machineID: id}, nil
	}
	if strings.HasPrefix(key, "ak_") {
		return caller{}, errMachineKeyInvalid()
	}
	return caller{}, errUnauthorized()
}
