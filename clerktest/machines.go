package clerktest

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Machine is a snapshot of an emulated machine.
type Machine struct {
	ID              string // mch_ + 27 word characters
	Name            string
	SecretKey       string   // ak_…: creates tokens, verifies tokens scoped to this machine
	ScopedMachines  []string // IDs of the machines this machine may call
	DefaultTokenTTL time.Duration
}

func (m *machine) snapshot() *Machine {
	return &Machine{
		ID:              m.id,
		Name:            m.name,
		SecretKey:       m.secretKey,
		ScopedMachines:  append([]string{}, m.scoped...),
		DefaultTokenTTL: time.Duration(m.ttl) * time.Second,
	}
}

// newMachine adds a machine; the caller holds s.mu and has checked scopedTo.
func (s *Server) newMachine(name string, ttl int64, scopedTo []string, now time.Time) *machine {
	m := &machine{
		id:        newMachineID(),
		name:      name,
		secretKey: newMachineKey(),
		ttl:       ttl,
		scopedAt:  make(map[string]time.Time),
		created:   now,
		updated:   now,
	}
	for _, id := range scopedTo {
		if !m.hasScope(id) {
			m.scoped = append(m.scoped, id)
			m.scopedAt[id] = now
		}
	}
	s.st.machines[m.id] = m
	s.st.order = append(s.st.order, m.id)
	s.st.keys[m.secretKey] = m.id
	return m
}

// checkScopes reports the first problem with a list of machine IDs to scope
// to; the caller holds s.mu.
func (s *Server) checkScopes(ids []string) error {
	if len(ids) > maxScopes {
		return fmt.Errorf("at most %d scoped machines are allowed", maxScopes)
	}
	for _, id := range ids {
		if s.st.machines[id] == nil {
			return fmt.Errorf("machine %q does not exist", truncateName(id))
		}
	}
	return nil
}

// CreateMachine adds a machine called name that may call the machines
// scopedTo, with the default token TTL of 3600 s. It is set-up for tests and
// panics if name is empty or a scoped machine does not exist.
func (s *Server) CreateMachine(name string, scopedTo ...string) *Machine {
	if name == "" || len(name) > 255 {
		panic("clerktest: CreateMachine: name must have 1 to 255 bytes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkScopes(scopedTo); err != nil {
		panic("clerktest: CreateMachine: " + err.Error())
	}
	return s.newMachine(name, defaultTokenTTL, scopedTo, s.now()).snapshot()
}

// Machine returns a snapshot of the machine with ID id.
func (s *Server) Machine(id string) (*Machine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.machines[id]
	if m == nil {
		return nil, false
	}
	return m.snapshot(), true
}

// ErrUnknownMachine is returned by AddScope and RemoveScope for an unknown ID.
var ErrUnknownMachine = errors.New("clerktest: unknown machine")

// ErrScopeExists is returned by AddScope when the scope is already there.
var ErrScopeExists = errors.New("clerktest: machine scope already exists")

// ErrNoScope is returned by RemoveScope when there is no such scope.
var ErrNoScope = errors.New("clerktest: machine scope does not exist")

// ErrTooManyScopes is returned by AddScope past 150 scoped machines.
var ErrTooManyScopes = errors.New("clerktest: too many scoped machines")

// AddScope lets machine fromID call machine toID. Tokens minted before keep
// their snapshot of scopes.
func (s *Server) AddScope(fromID, toID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.addScope(fromID, toID, s.now())
	return err
}

func (s *Server) addScope(fromID, toID string, now time.Time) (*machine, error) {
	from, to := s.st.machines[fromID], s.st.machines[toID]
	if from == nil || to == nil {
		return nil, ErrUnknownMachine
	}
	if from.hasScope(toID) {
		return nil, ErrScopeExists
	}
	if len(from.scoped) >= maxScopes {
		return nil, ErrTooManyScopes
	}
	from.scoped = append(from.scoped, toID)
	from.scopedAt[toID] = now
	from.updated = now
	return from, nil
}

// RemoveScope stops machine fromID from calling machine toID. Tokens minted
// before keep their snapshot of scopes.
func (s *Server) RemoveScope(fromID, toID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeScope(fromID, toID, s.now())
}

func (s *Server) removeScope(fromID, toID string, now time.Time) error {
	from := s.st.machines[fromID]
	if from == nil {
		return ErrUnknownMachine
	}
	if !from.hasScope(toID) {
		return ErrNoScope
	}
	from.scoped = slices.DeleteFunc(from.scoped, func(id string) bool { return id == toID })
	delete(from.scopedAt, toID)
	from.updated = now
	return nil
}

// deleteMachine removes a machine, its keys, its tokens and every scope to it;
// the caller holds s.mu.
func (s *Server) deleteMachine(id string, now time.Time) bool {
	m := s.st.machines[id]
	if m == nil {
		return false
	}
	delete(s.st.machines, id)
	delete(s.st.keys, m.secretKey)
	for k, ok := range s.st.oldKeys {
		if ok.machineID == id {
			delete(s.st.oldKeys, k)
		}
	}
	s.st.order = slices.DeleteFunc(s.st.order, func(x string) bool { return x == id })
	for _, other := range s.st.machines {
		if other.hasScope(id) {
			s.removeScope(other.id, id, now)
		}
	}
	s.st.tokenList = slices.DeleteFunc(s.st.tokenList, func(t *token) bool {
		if t.subject != id {
			return false
		}
		delete(s.st.tokens, t.id)
		delete(s.st.byValue, t.value)
		return true
	})
	return true
}
